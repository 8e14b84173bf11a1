import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTempFile, openPartialFile, partialPath } from "./atomic-file.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sdk-atomic-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("createTempFile", () => {
  it("shows the target only after commit, whole", async () => {
    const target = join(dir, "sub", "model.bin");
    const tmp = await createTempFile(target);
    const big = Buffer.alloc((1 << 20) + 5, 1);
    await tmp.write(Buffer.from("head"));
    await tmp.write(big);
    await tmp.write(Buffer.from("tail"));
    expect(tmp.written).toBe(big.length + 8);
    expect(await readdir(join(dir, "sub"))).toEqual([expect.stringMatching(/^\.model\.bin\.[0-9a-f]{12}\.part$/)]);
    await tmp.commit();
    await tmp.discard();
    expect(await readdir(join(dir, "sub"))).toEqual(["model.bin"]);
    expect(Buffer.compare(await readFile(target), Buffer.concat([Buffer.from("head"), big, Buffer.from("tail")]))).toBe(0);
  });

  it("leaves an existing target untouched when discarded", async () => {
    const target = join(dir, "keep.txt");
    await writeFile(target, "old");
    const tmp = await createTempFile(target);
    await tmp.write(Buffer.from("half"));
    await tmp.discard();
    expect(await readFile(target, "utf8")).toBe("old");
    expect(await readdir(dir)).toEqual(["keep.txt"]);
  });

  it("replaces an existing target on commit", async () => {
    const target = join(dir, "f");
    await writeFile(target, "old");
    const tmp = await createTempFile(target);
    await tmp.write(Buffer.from("new"));
    await tmp.commit();
    expect(await readFile(target, "utf8")).toBe("new");
  });

  it("writes many chunks in order in the background, asking to wait only when far behind", async () => {
    const target = join(dir, "many.bin");
    const tmp = await createTempFile(target);
    const parts: Buffer[] = [];
    let waits = 0;
    // 24 MiB in chunks of odd sizes (some tiny), handed without waiting unless asked.
    for (let i = 0, total = 0; total < 24 << 20; i++) {
      const part = Buffer.alloc(i % 7 === 0 ? 3 : 65_521 + (i % 5), i % 251);
      parts.push(part);
      total += part.length;
      const wait = tmp.write(part);
      if (wait) {
        waits++;
        await wait;
      }
    }
    expect(waits).toBeGreaterThan(0);
    await tmp.commit();
    await tmp.discard();
    expect(Buffer.compare(await readFile(target), Buffer.concat(parts))).toBe(0);
  });

  it("commits everything handed before, even when the last write is still running", async () => {
    const target = join(dir, "last.bin");
    const tmp = await createTempFile(target);
    const big = Buffer.alloc(3 << 20, 7);
    void tmp.write(big);
    void tmp.write(Buffer.from("end"));
    await tmp.commit();
    expect(Buffer.compare(await readFile(target), Buffer.concat([big, Buffer.from("end")]))).toBe(0);
  });
});

describe("openPartialFile", () => {
  it("keeps what was written for a later run, which cuts it to the bytes it trusts and goes on", async () => {
    const target = join(dir, "p", "model.bin");
    const durable: number[] = [];
    const first = await openPartialFile(target, 0, (n) => durable.push(n));
    // 72 MiB: past the 64 MiB at which a background fsync runs.
    const part = Buffer.alloc(8 << 20, 5);
    for (let i = 0; i < 9; i++) await first.write(part);
    expect(await first.keep()).toBe(72 << 20);
    expect(durable.length).toBeGreaterThan(0);
    expect(durable.every((n) => n > 0 && n <= 72 << 20)).toBe(true);
    expect(await readdir(join(dir, "p"))).toEqual(["model.bin.modelreg-partial"]);

    const second = await openPartialFile(target, 10, () => {});
    expect(second.written).toBe(10);
    await second.write(Buffer.from("rest"));
    await second.commit();
    expect(await readFile(target, "latin1")).toBe(`${"\x05".repeat(10)}rest`);
    expect(await readdir(join(dir, "p"))).toEqual(["model.bin"]);
    expect(partialPath(target)).toBe(`${target}.modelreg-partial`);
  });
});
