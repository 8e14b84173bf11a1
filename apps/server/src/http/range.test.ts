// HTTP byte ranges: what a download's Range header asks for, and what an
// upload chunk's Content-Range declares.
import { describe, expect, it } from "vitest";
import { parseContentRange, parseRange } from "./range.js";

describe("parseRange", () => {
  it("serves the whole content without a usable header", () => {
    for (const header of [undefined, "", "bytes=-", "items=0-1", "bytes=0-1,4-5", "bytes=5-2"]) expect(parseRange(header, 10)).toBeUndefined();
  });

  it("takes a first-last range, clipped to the content", () => {
    expect(parseRange("bytes=2-4", 10)).toEqual({ start: 2, end: 5 });
    expect(parseRange("bytes=2-", 10)).toEqual({ start: 2, end: 10 });
    expect(parseRange("bytes=8-100", 10)).toEqual({ start: 8, end: 10 });
    expect(parseRange("bytes=10-", 10)).toBe("unsatisfiable");
  });

  it("takes the last n bytes, all of them when n is larger", () => {
    expect(parseRange("bytes=-3", 10)).toEqual({ start: 7, end: 10 });
    expect(parseRange("bytes=-30", 10)).toEqual({ start: 0, end: 10 });
    expect(parseRange("bytes=-0", 10)).toBe("unsatisfiable");
  });

  it("finds no range of empty content satisfiable", () => {
    for (const header of ["bytes=-5", "bytes=-1", "bytes=0-", "bytes=0-0", "bytes=-0"]) expect(parseRange(header, 0)).toBe("unsatisfiable");
    expect(parseRange(undefined, 0)).toBeUndefined();
  });
});

describe("parseContentRange", () => {
  it("reads a chunk's first, last and total, or a query for the offset", () => {
    expect(parseContentRange("bytes 0-9/100")).toEqual({ kind: "chunk", start: 0, end: 10, total: 100 });
    expect(parseContentRange("bytes */100")).toEqual({ kind: "query", total: 100 });
  });

  it("says what is wrong with a bad one", () => {
    expect(parseContentRange("bytes 5-4/100")).toEqual({ error: expect.stringContaining("first <= last < total") });
    expect(parseContentRange("bytes 0-100/100")).toEqual({ error: expect.stringContaining("first <= last < total") });
    expect(parseContentRange("items 0-1/2")).toEqual({ error: expect.stringContaining("is not a Content-Range") });
  });
});
