import { describe, expect, it } from "vitest";
import { normalizeFilePath, normalizeManifestPaths } from "./paths.js";

describe("normalizeFilePath", () => {
  it("keeps relative paths and drops '.' segments", () => {
    expect(normalizeFilePath("model.pmml").path).toBe("model.pmml");
    expect(normalizeFilePath("weights/shard-00001.safetensors").path).toBe("weights/shard-00001.safetensors");
    expect(normalizeFilePath("./config/./tokenizer.json").path).toBe("config/tokenizer.json");
    expect(normalizeFilePath("ｍodel/é.bin").path).toBe("ｍodel/é.bin".normalize("NFC"));
    expect(normalizeFilePath("e\u0301.txt").path).toBe("\u00e9.txt"); // NFC
  });

  it("refuses what could escape or does not mean one file everywhere", () => {
    const cases: [string, RegExp][] = [
      ["", /is empty/],
      ["/etc/passwd", /is absolute/],
      ["C:/Windows/x", /is absolute/],
      ["../secret", /contains '\.\.'/],
      ["a/../../b", /contains '\.\.'/],
      ["a//b", /empty segment/],
      ["dir/", /empty segment/],
      ["a\u0000b", /control character/],
      ["line\nbreak", /control character/],
      ["a\\b", /separate directories with '\/'/],
      [".", /names no file/],
      ["x".repeat(256), /longer than 255 bytes/],
      [`${"d/".repeat(600)}f`, /longer than 1024 bytes/],
      ["CON", /reserved device name/],
      ["logs/aux.txt", /reserved device name/],
      ["name. ", /ending in a dot or space/],
      ["\ud800.bin", /not valid Unicode/],
    ];
    for (const [raw, why] of cases) expect(normalizeFilePath(raw).error, JSON.stringify(raw)).toMatch(why);
  });
});

describe("normalizeManifestPaths", () => {
  it("reports each bad path by index, duplicates after normalisation, and files used as directories", () => {
    const r = normalizeManifestPaths("files", ["a.bin", "./a.bin", "../x", "B/c", "b/C", "dir", "dir/inner.txt"]);
    expect(r.violations.map((v) => v.field)).toEqual(["files[1].path", "files[2].path", "files[4].path", "files[5].path"]);
    expect(r.violations[0]!.description).toMatch(/duplicates files\[0\]/);
    expect(r.violations[3]!.description).toMatch(/"dir" is a file, but files\[6\] \("dir\/inner.txt"\) uses it as a directory/);
  });
  it("passes a clean directory tree", () => {
    const r = normalizeManifestPaths("files", ["config.json", "tokenizer/vocab.txt", "tokenizer/merges.txt", "weights/model.safetensors"]);
    expect(r.violations).toEqual([]);
    expect(r.paths).toEqual(["config.json", "tokenizer/vocab.txt", "tokenizer/merges.txt", "weights/model.safetensors"]);
  });
});
