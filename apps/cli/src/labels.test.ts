import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { UsageError } from "./exit-codes.js";
import { collectLabel, formatLabels, labelMap, parseLabel } from "./labels.js";

describe("labels", () => {
  it("splits key=value at the first =", () => {
    expect(parseLabel("team=risk")).toEqual({ key: "team", value: "risk" });
    expect(parseLabel("query=a=b")).toEqual({ key: "query", value: "a=b" });
    expect(parseLabel("empty=")).toEqual({ key: "empty", value: "" });
    expect(parseLabel("k8s.io/app=x")).toEqual({ key: "k8s.io/app", value: "x" });
  });

  it("refuses text that is not key=value", () => {
    expect(() => parseLabel("team")).toThrow(InvalidArgumentError);
    expect(() => parseLabel("team")).toThrow(/key=value/);
    expect(() => parseLabel("=risk")).toThrow(/key is empty/);
  });

  it("collects repeated --label options without mutating the previous list", () => {
    const first = collectLabel("a=1");
    const both = collectLabel("b=2", first);
    expect(first).toEqual([{ key: "a", value: "1" }]);
    expect(both).toEqual([
      { key: "a", value: "1" },
      { key: "b", value: "2" },
    ]);
  });

  it("builds a map and refuses a key given twice", () => {
    expect(labelMap([])).toEqual({});
    expect(labelMap([{ key: "a", value: "1" }, { key: "b", value: "" }])).toEqual({ a: "1", b: "" });
    expect(() => labelMap([{ key: "a", value: "1" }, { key: "a", value: "2" }])).toThrow(UsageError);
  });

  it("formats labels sorted by key", () => {
    expect(formatLabels({ z: "1", a: "2" })).toBe("a=2,z=1");
    expect(formatLabels({})).toBe("");
  });
});
