// Downloads continued across runs against the real server, through a
// loopback proxy that counts the bytes it forwards: a stopped download keeps
// its partial file and record, the next one asks only for the rest; a
// partial file of other content is never continued; one whose bytes went
// bad fails the final sha256, is deleted, and the error says so.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from "vitest";
import { createRegistryClient, type RegistryClient } from "../client.js";
import { Code } from "../errors.js";
import { startFlakyProxy, type FlakyProxy } from "../testing/flaky-proxy.js";
import { newVersion, patterned, tempDir } from "../testing/fixtures.js";
import { partialPath } from "./atomic-file.js";
import { recordPath } from "./partial-download.js";

const SIZE = 6 << 20;
/** Headers and framing of a few requests, at most. */
const SLACK = 64 << 10;
let seed = 5000;

let server: TestServer;
let tmp: { path: string; remove(): Promise<void> };
let proxy: FlakyProxy;
let client: RegistryClient;

beforeAll(async () => {
  server = await startTestServer("pglite");
  tmp = await tempDir("sdk-partial");
}, 60_000);
afterAll(async () => {
  await server?.close();
  await tmp?.remove();
});
beforeEach(async () => {
  proxy = await startFlakyProxy(server.url);
  client = createRegistryClient({ baseUrl: proxy.url, accessKey: "" });
});
afterEach(() => proxy.close());

/** A READY version holding one file `name` of SIZE new bytes. */
async function stored(name: string): Promise<{ version: string; data: Buffer }> {
  const data = patterned(SIZE, seed++);
  const src = join(tmp.path, `src-${name}`);
  await writeFile(src, data);
  const version = await newVersion(server.client);
  await server.client.uploadFile(version, src, { path: name });
  return { version, data };
}

/** Downloads until at least `bytes` have arrived, then stops (as Ctrl-C does). */
async function stopAfter(version: string, name: string, dst: string, bytes: number): Promise<unknown> {
  const stop = new AbortController();
  return client
    .downloadToFile(version, name, dst, {
      signal: stop.signal,
      onProgress: (p) => {
        if (p.bytesDone >= bytes) stop.abort(new Error("stopped by the test"));
      },
    })
    .catch((e: unknown) => e);
}

for (const transport of ["http", "stream"] as const) {
  it(`continues a stopped download where it stopped (${transport})`, async () => {
    const { version, data } = await stored(`cont-${transport}.bin`);
    const dst = join(tmp.path, `cont-${transport}.out`);
    const err = await stopAfter(version, `cont-${transport}.bin`, dst, 2 << 20);
    expect(err).toMatchObject({ code: Code.Canceled });
    const record = JSON.parse(await readFile(recordPath(dst), "utf8"));
    expect(record).toMatchObject({ sizeBytes: SIZE, version, path: `cont-${transport}.bin` });
    expect(record.bytes).toBeGreaterThanOrEqual(2 << 20);
    expect((await readFile(partialPath(dst))).length).toBe(record.bytes);
    await expect(readFile(dst)).rejects.toMatchObject({ code: "ENOENT" });

    const before = proxy.bytes.down;
    const totals: number[] = [];
    const got = await client.downloadToFile(version, `cont-${transport}.bin`, dst, { transport, onProgress: (p) => totals.push(p.bytesTotal) });
    expect(got.sha256).toBe(record.sha256);
    // Only the rest came.
    expect(proxy.bytes.down - before).toBeLessThan(SIZE - record.bytes + SLACK);
    expect(new Set(totals)).toEqual(new Set([SIZE - record.bytes]));
    expect(Buffer.compare(await readFile(dst), data)).toBe(0);
    expect((await readdir(tmp.path)).filter((n) => n.startsWith(`cont-${transport}.out.`))).toEqual([]);
  }, 60_000);
}

it("continues the partial files of a directory download and counts only what is left", async () => {
  const { version, data } = await stored("dir.bin");
  const dir = join(tmp.path, "dir-out");
  await stopAfter(version, "dir.bin", join(dir, "dir.bin"), 1 << 20);
  const kept = JSON.parse(await readFile(recordPath(join(dir, "dir.bin")), "utf8")).bytes as number;
  const before = proxy.bytes.down;
  const totals: number[] = [];
  const [got] = await client.downloadToDirectory(version, dir, { onProgress: (p) => totals.push(p.bytesTotal) });
  expect(got).toMatchObject({ downloaded: true });
  expect(proxy.bytes.down - before).toBeLessThan(SIZE - kept + SLACK);
  expect(totals.every((t) => t === SIZE - kept)).toBe(true);
  expect(Buffer.compare(await readFile(join(dir, "dir.bin")), data)).toBe(0);
  expect(await readdir(dir)).toEqual(["dir.bin"]);
}, 60_000);

it("never continues a partial file of other content: it starts over", async () => {
  const first = await stored("a.bin");
  const second = await stored("b.bin");
  const dst = join(tmp.path, "other.out");
  await stopAfter(first.version, "a.bin", dst, 1 << 20);
  const before = proxy.bytes.down;
  await client.downloadToFile(second.version, "b.bin", dst);
  expect(proxy.bytes.down - before).toBeGreaterThanOrEqual(SIZE);
  expect(Buffer.compare(await readFile(dst), second.data)).toBe(0);
}, 60_000);

it("deletes a partial file whose kept bytes went bad, and says so; the next download starts over", async () => {
  const { version, data } = await stored("bad.bin");
  const dst = join(tmp.path, "bad.out");
  await stopAfter(version, "bad.bin", dst, 1 << 20);
  // Something changed the kept bytes on disk.
  const partial = await readFile(partialPath(dst));
  partial.writeUInt8(partial.readUInt8(100) ^ 0xff, 100);
  await writeFile(partialPath(dst), partial);
  const err = await client.downloadToFile(version, "bad.bin", dst).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: Code.DataLoss });
  expect((err as Error).message).toMatch(/bytes kept from an earlier run.*was deleted, so the next try starts over/);
  await expect(readFile(partialPath(dst))).rejects.toMatchObject({ code: "ENOENT" });
  await expect(readFile(recordPath(dst))).rejects.toMatchObject({ code: "ENOENT" });
  await expect(readFile(dst)).rejects.toMatchObject({ code: "ENOENT" });
  await client.downloadToFile(version, "bad.bin", dst);
  expect(Buffer.compare(await readFile(dst), data)).toBe(0);
}, 60_000);

describe("resume: false", () => {
  it("leaves nothing behind when stopped", async () => {
    const { version } = await stored("off.bin");
    const dir = join(tmp.path, "off");
    const stop = new AbortController();
    const err = await client
      .downloadToFile(version, "off.bin", join(dir, "off.out"), {
        resume: false,
        signal: stop.signal,
        onProgress: (p) => p.bytesDone >= 1 << 20 && stop.abort(new Error("stopped")),
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.Canceled });
    expect(await readdir(dir)).toEqual([]);
  }, 60_000);
});
