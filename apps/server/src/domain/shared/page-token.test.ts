import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors.js";
import { decodePageToken, encodePageToken, pageOf, queryFingerprint } from "./page-token.js";

describe("page tokens", () => {
  const fp = queryFingerprint("versions", "model-a");

  it("round-trips a keyset position", () => {
    const token = encodePageToken(fp, ["B1A0A0~", "1.0.0"]);
    expect(decodePageToken(token, fp, 2)).toEqual(["B1A0A0~", "1.0.0"]);
    expect(decodePageToken("", fp, 2)).toBeUndefined();
  });

  it("refuses a token of another query", () => {
    const token = encodePageToken(queryFingerprint("versions", "model-b"), ["k", "v"]);
    expect(() => decodePageToken(token, fp, 2)).toThrow(/different query/);
  });

  it("refuses garbage and tampered tokens with InvalidArgument on page_token", () => {
    for (const bad of ["garbage", "e30", Buffer.from('{"q":1}').toString("base64url"), encodePageToken(fp, ["only-one"])]) {
      try {
        decodePageToken(bad, fp, 2);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidArgumentError);
        expect((e as InvalidArgumentError).violations[0]!.field).toBe("page_token");
      }
    }
  });
});

describe("pageOf", () => {
  const fp = queryFingerprint("items");
  it("keeps every row and ends the list when no extra row came back", () => {
    expect(pageOf([1, 2], 2, fp, (n) => [String(n)])).toEqual({ rows: [1, 2], nextPageToken: "" });
  });
  it("drops the extra row and points the token at the last row kept", () => {
    const page = pageOf([1, 2, 3], 2, fp, (n) => [String(n)]);
    expect(page.rows).toEqual([1, 2]);
    expect(decodePageToken(page.nextPageToken, fp, 1)).toEqual(["2"]);
  });
});
