import { Code, ConnectError } from "@connectrpc/connect";
import { create, toBinary } from "@bufbuild/protobuf";
import { ErrorInfoSchema } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { errorDetails } from "../errors.js";
import { codeForStatus, contentRange, httpError, rangeHeader, resolveUrl } from "./http.js";

describe("contentRange and rangeHeader", () => {
  it("names inclusive last bytes", () => {
    expect(contentRange(0, 1, 1)).toBe("bytes 0-0/1");
    expect(contentRange(0, 4096, 10_000)).toBe("bytes 0-4095/10000");
    expect(contentRange(8192, 10_000, 10_000)).toBe("bytes 8192-9999/10000");
    expect(rangeHeader(100)).toBe("bytes=100-");
    expect(rangeHeader(100, 200)).toBe("bytes=100-199");
  });

  it("refuses empty or out-of-bounds ranges", () => {
    expect(() => contentRange(0, 0, 0)).toThrow(RangeError);
    expect(() => contentRange(5, 11, 10)).toThrow(RangeError);
    expect(() => contentRange(-1, 2, 10)).toThrow(RangeError);
  });
});

describe("resolveUrl", () => {
  it("keeps absolute URLs and resolves paths against the base", () => {
    expect(resolveUrl("https://cdn.example/x?sig=1", "http://127.0.0.1:8080").href).toBe("https://cdn.example/x?sig=1");
    expect(resolveUrl("/v1/uploads/u1?exp=2&sig=abc", "http://127.0.0.1:8080").href).toBe("http://127.0.0.1:8080/v1/uploads/u1?exp=2&sig=abc");
  });

  it("refuses an empty URL", () => {
    expect(() => resolveUrl("", "http://x")).toThrow(ConnectError);
  });
});

describe("httpError", () => {
  it("reads a Connect JSON error with its details", () => {
    const info = create(ErrorInfoSchema, { reason: "OFFSET_MISMATCH", domain: "modelreg", metadata: { committed_offset: "4096" } });
    const body = JSON.stringify({
      code: "failed_precondition",
      message: "chunk starts at 0, expected 4096",
      details: [{ type: "google.rpc.ErrorInfo", value: Buffer.from(toBinary(ErrorInfoSchema, info)).toString("base64").replace(/=+$/, "") }],
    });
    const err = httpError(409, { "content-type": "application/json" }, body);
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toBe("chunk starts at 0, expected 4096");
    expect(errorDetails(err)).toMatchObject({ reason: "OFFSET_MISMATCH", metadata: { committed_offset: "4096" } });
  });

  it("keeps headers as metadata (Retry-After)", () => {
    const err = httpError(429, { "retry-after": "3" }, JSON.stringify({ code: "resource_exhausted", message: "slow down" }));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.metadata.get("retry-after")).toBe("3");
  });

  it("falls back to the status when the body is not a Connect error", () => {
    expect(httpError(503, {}, "<html>bad gateway</html>").code).toBe(Code.Unavailable);
    expect(httpError(404, {}, "").code).toBe(Code.NotFound);
    expect(httpError(403, {}, "{}").code).toBe(Code.PermissionDenied);
  });

  it("maps statuses like the upload and download routes use them", () => {
    expect([400, 401, 403, 404, 409, 413, 416, 429, 500, 503].map(codeForStatus)).toEqual([
      Code.InvalidArgument,
      Code.Unauthenticated,
      Code.PermissionDenied,
      Code.NotFound,
      Code.FailedPrecondition,
      Code.ResourceExhausted,
      Code.OutOfRange,
      Code.ResourceExhausted,
      Code.Internal,
      Code.Unavailable,
    ]);
  });
});
