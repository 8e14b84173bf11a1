// A zip entry whose deflated data does not inflate: the error reaches the
// reader even when it comes before the reader starts, and a stream that
// errs after the reader stopped does not crash the process.
import { execFile as execFileCb } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import yauzl from "yauzl";
import { tempDir } from "../testing/fixtures.js";
import { withEntry } from "./zip-entry.js";

const execFile = promisify(execFileCb);

let tmp: { path: string; remove(): Promise<void> };
let bad: string;

beforeAll(async () => {
  tmp = await tempDir("zip-entry");
  await writeFile(join(tmp.path, "weights.txt"), "layer weights, compressible\n".repeat(20_000));
  await execFile("zip", ["-9", "-q", "good.zip", "weights.txt"], { cwd: tmp.path });
  const bytes = await readFile(join(tmp.path, "good.zip"));
  expect(bytes.readUInt32LE(0)).toBe(0x04034b50);
  expect(bytes.readUInt16LE(8)).toBe(8); // deflated
  const data = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28);
  bytes[data]! |= 0x06; // the first block's type set to 11, which does not exist
  bad = join(tmp.path, "bad.zip");
  await writeFile(bad, bytes);
});

afterAll(() => tmp?.remove());

async function firstEntry(path: string): Promise<{ zip: yauzl.ZipFile; entry: yauzl.Entry }> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  for await (const entry of zip.eachEntry()) return { zip, entry };
  throw new Error(`${path} has no entry`);
}

it("hands the inflate error to a reader that starts after yauzl forwarded it", async () => {
  const { zip, entry } = await firstEntry(bad);
  try {
    const read = withEntry(zip, entry, async (stream) => {
      // The error is forwarded while nobody iterates (as while the file to unpack into is opened).
      await new Promise((resolve) => stream.once("error", resolve));
      const chunks: Uint8Array[] = [];
      for await (const c of stream) chunks.push(c);
      return chunks;
    });
    await expect(read).rejects.toThrow(/invalid block type/);
  } finally {
    zip.close();
  }
});

it("reads a good entry whole, and absorbs an error forwarded after the reader stopped", async () => {
  const { zip, entry } = await firstEntry(join(tmp.path, "good.zip"));
  try {
    const text = await withEntry(zip, entry, async (stream) => {
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(Buffer.from(c));
      return Buffer.concat(chunks).toString();
    });
    expect(text).toBe("layer weights, compressible\n".repeat(20_000));
  } finally {
    zip.close();
  }
  const again = await firstEntry(bad);
  try {
    // The reader stops at the first error; whatever yauzl forwards later must not escape (vitest fails the run on an uncaught error).
    await expect(
      withEntry(again.zip, again.entry, async (stream) => {
        for await (const _ of stream) break;
      }),
    ).rejects.toThrow(/invalid block type/);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    again.zip.close();
  }
});
