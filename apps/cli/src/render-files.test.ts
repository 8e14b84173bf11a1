import { create } from "@bufbuild/protobuf";
import { VersionFileSchema } from "@modelreg/sdk";
import { describe, expect, it } from "vitest";
import { formatBytes, pulledJson, renderFilesTable, renderPulledTable, shortDigest } from "./render-files.js";

describe("formatBytes", () => {
  it("uses binary units with one decimal", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(5 * 1024 * 1024 + 512 * 1024)).toBe("5.5 MiB");
    expect(formatBytes(3 * 1024 ** 4)).toBe("3.0 TiB");
  });
});

describe("tables", () => {
  it("lists files with short digests", () => {
    const f = create(VersionFileSchema, { path: "weights/model.onnx", sizeBytes: 2048n, sha256: "ab".repeat(32), md5: "", mediaType: "application/onnx" });
    const [head, row] = renderFilesTable([f]).split("\n");
    expect(head).toMatch(/^PATH\s+SIZE\s+SHA256\s+MD5\s+MEDIA TYPE$/);
    expect(row).toMatch(/^weights\/model\.onnx\s+2\.0 KiB\s+abababababab\s+-\s+application\/onnx$/);
    expect(shortDigest("")).toBe("-");
  });

  it("says what pull wrote", () => {
    const files = [
      { path: "a.bin", localPath: "/tmp/m-1.0.0/a.bin", sizeBytes: 1, sha256: "x", downloaded: true },
      { path: "b.bin", localPath: "/tmp/m-1.0.0/b.bin", sizeBytes: 0, sha256: "y", downloaded: false },
    ];
    const lines = renderPulledTable(files).split("\n");
    expect(lines[0]).toMatch(/^PATH\s+SIZE\s+LOCAL PATH\s+STATUS$/);
    expect(lines[1]).toMatch(/^a\.bin\s+1 B\s+\/tmp\/m-1\.0\.0\/a\.bin\s+downloaded$/);
    expect(lines[2]).toMatch(/unchanged$/);
    expect(pulledJson(files[0]!)).toEqual({ path: "a.bin", localPath: "/tmp/m-1.0.0/a.bin", sizeBytes: "1", sha256: "x", downloaded: true });
  });
});
