import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listLocalFiles, localPathIn } from "./local-files.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sdk-walk-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("listLocalFiles", () => {
  it("lists every regular file with '/' paths, sorted", async () => {
    await mkdir(join(dir, "weights", "shards"), { recursive: true });
    await mkdir(join(dir, "empty-dir"));
    await writeFile(join(dir, "config.json"), "{}");
    await writeFile(join(dir, "weights", "shards", "00001.bin"), "a");
    await writeFile(join(dir, "weights", "model.safetensors"), "b");
    await writeFile(join(dir, "README.md"), "");
    const files = await listLocalFiles(dir);
    expect(files.map((f) => f.path)).toEqual(["README.md", "config.json", "weights/model.safetensors", "weights/shards/00001.bin"]);
    expect(files[3]!.localPath).toBe(join(dir, "weights", "shards", "00001.bin"));
  });

  it("refuses symbolic links with a clear error", async () => {
    await writeFile(join(dir, "real"), "x");
    await symlink(join(dir, "real"), join(dir, "link"));
    await expect(listLocalFiles(dir)).rejects.toThrow(/link is a symbolic link: only regular files can be uploaded/);
  });

  it("refuses a missing directory or a file", async () => {
    await expect(listLocalFiles(join(dir, "nope"))).rejects.toThrow(/does not exist/);
    await writeFile(join(dir, "f"), "");
    await expect(listLocalFiles(join(dir, "f"))).rejects.toThrow(/is not a directory/);
  });
});

describe("localPathIn", () => {
  it("maps manifest paths into the directory", () => {
    expect(localPathIn(dir, "a/b/c.bin")).toBe(join(dir, "a", "b", "c.bin"));
  });

  it("refuses paths that could escape it", () => {
    for (const p of ["../x", "a/../../x", "/etc/passwd", "C:/x", "a\\b", "a//b", "", "./a"]) {
      expect(() => localPathIn(dir, p), p).toThrow(/refusing to write/);
    }
  });
});
