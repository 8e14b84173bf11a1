import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashFile, sha256Hex } from "./hash.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sdk-hash-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("hashFile", () => {
  it("hashes an empty file", async () => {
    await writeFile(join(dir, "empty"), "");
    expect(await hashFile(join(dir, "empty"))).toEqual({ sizeBytes: 0, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" });
  });

  it("hashes across read chunks like the whole content at once", async () => {
    const data = Buffer.alloc(3 * (1 << 20) + 17, 7);
    for (let i = 0; i < data.length; i += 4093) data[i] = i % 251;
    await writeFile(join(dir, "big"), data);
    expect(await hashFile(join(dir, "big"))).toEqual({ sizeBytes: data.length, sha256: sha256Hex(data) });
  });

  it("hashes a file of a few bytes and one past the 4 MiB read size", async () => {
    await writeFile(join(dir, "tiny"), "abc");
    expect(await hashFile(join(dir, "tiny"))).toEqual({ sizeBytes: 3, sha256: sha256Hex("abc") });
    const data = Buffer.alloc((4 << 20) + 3, 1);
    data[data.length - 1] = 9;
    await writeFile(join(dir, "past-chunk"), data);
    expect(await hashFile(join(dir, "past-chunk"))).toEqual({ sizeBytes: data.length, sha256: sha256Hex(data) });
  });

  it("rejects a missing file", async () => {
    await expect(hashFile(join(dir, "nope"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
