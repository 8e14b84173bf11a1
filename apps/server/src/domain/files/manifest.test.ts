import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { manifestDigest, mediaTypeOf } from "./manifest.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("manifestDigest", () => {
  const a = { path: "config.json", size: 2, sha256: sha("{}") };
  const b = { path: "weights/model.safetensors", size: 5, sha256: sha("bytes") };

  it("does not depend on the order files were listed in", () => {
    expect(manifestDigest([a, b])).toBe(manifestDigest([b, a]));
    expect(manifestDigest([a, b])).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("changes with any path, size or content", () => {
    const base = manifestDigest([a, b]);
    expect(manifestDigest([a, { ...b, path: "weights/model2.safetensors" }])).not.toBe(base);
    expect(manifestDigest([a, { ...b, size: 6 }])).not.toBe(base);
    expect(manifestDigest([a, { ...b, sha256: sha("other") }])).not.toBe(base);
    expect(manifestDigest([a])).not.toBe(base);
  });

  it("is pinned, so an export re-imported anywhere compares equal", () => {
    // The canonical form, spelled out: a change here breaks every stored digest.
    const expected = createHash("sha256").update(`${a.sha256} 2 config.json\n${b.sha256} 5 weights/model.safetensors\n`).digest("hex");
    expect(manifestDigest([b, a])).toBe(`sha256:${expected}`);
    expect(manifestDigest([])).toBe(`sha256:${sha("")}`);
  });

  it("sorts by UTF-8 bytes, not by locale", () => {
    const upper = { path: "Z.txt", size: 1, sha256: sha("z") };
    const lower = { path: "a.txt", size: 1, sha256: sha("a") };
    const expected = createHash("sha256").update(`${upper.sha256} 1 Z.txt\n${lower.sha256} 1 a.txt\n`).digest("hex");
    expect(manifestDigest([lower, upper])).toBe(`sha256:${expected}`);
  });
});

describe("mediaTypeOf", () => {
  it("guesses from the extension, case-insensitively", () => {
    expect(mediaTypeOf("model.pmml")).toBe("application/xml");
    expect(mediaTypeOf("dir/config.JSON")).toBe("application/json");
    expect(mediaTypeOf("model.onnx")).toBe("application/onnx");
  });
  it("falls back to application/octet-stream", () => {
    expect(mediaTypeOf("weights")).toBe("application/octet-stream");
    expect(mediaTypeOf(".hidden")).toBe("application/octet-stream");
    expect(mediaTypeOf("a.dir/noext")).toBe("application/octet-stream");
    expect(mediaTypeOf("x.unknownext")).toBe("application/octet-stream");
  });
});
