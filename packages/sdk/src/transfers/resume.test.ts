// Resumption against the real server through a loopback proxy that cuts or
// stalls the first connection carrying a transfer: uploads continue from
// the committed offset (GetUploadSession), downloads from the last byte
// written (Range / ReadFile offset), and a stalled connection is given up
// after the client's transferIdleMs of silence. Ordinary calls get no
// deadline here: on a busy machine one may take longer than a stall does.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRegistryClient, type RegistryClient } from "../client.js";
import { Code } from "../errors.js";
import { startFlakyProxy, type FlakyProxy } from "../testing/flaky-proxy.js";
import { newVersion, patterned, tempDir } from "../testing/fixtures.js";

const SIZE = 2 << 20;
const CHUNK = 256 << 10;
const retry = { baseDelayMs: 10, maxDelayMs: 50 };
let seed = 1000;

let server: TestServer;
let tmp: { path: string; remove(): Promise<void> };
let proxy: FlakyProxy;
let client: RegistryClient;

beforeAll(async () => {
  server = await startTestServer("pglite");
  tmp = await tempDir("sdk-resume");
}, 60_000);
afterAll(async () => {
  await server?.close();
  await tmp?.remove();
});
beforeEach(async () => {
  proxy = await startFlakyProxy(server.url);
  client = createRegistryClient({ baseUrl: proxy.url, accessKey: "", transferIdleMs: 1500 });
});
afterEach(() => proxy.close());

async function file(name: string): Promise<{ path: string; data: Buffer }> {
  const data = patterned(SIZE, seed++);
  const path = join(tmp.path, name);
  await writeFile(path, data);
  return { path, data };
}

for (const transport of ["http", "stream"] as const) {
  describe(`transport ${transport}`, () => {
    for (const mode of ["cut", "stall"] as const) {
      it(`resumes an upload whose connection is ${mode === "cut" ? "cut" : "stalled"} mid-transfer`, async () => {
        const src = await file(`up-${transport}-${mode}.bin`);
        const version = await newVersion(client);
        const before = proxy.bytes.up;
        proxy.arm({ direction: "up", afterBytes: SIZE / 2 + 1000, mode });
        const done: number[] = [];
        const ready = await client.uploadFile(version, src.path, { transport, chunkBytes: CHUNK, retry, onProgress: (p) => done.push(p.bytesDone) });
        expect(proxy.faults).toBe(1);
        expect(ready.totalSizeBytes).toBe(BigInt(SIZE));
        // Resumed, not restarted: well under twice the file went up.
        expect(proxy.bytes.up - before).toBeLessThan(SIZE + 2 * CHUNK + (128 << 10));
        expect(done.at(-1)).toBe(SIZE);
        const back = await server.client.downloadBytes(version, `up-${transport}-${mode}.bin`);
        expect(Buffer.compare(Buffer.from(back), src.data)).toBe(0);
      }, 30_000);

      it(`resumes a download whose connection is ${mode === "cut" ? "cut" : "stalled"} mid-transfer`, async () => {
        const src = await file(`down-${transport}-${mode}.bin`);
        const version = await newVersion(server.client);
        await server.client.uploadFile(version, src.path);
        const before = proxy.bytes.down;
        proxy.arm({ direction: "down", afterBytes: SIZE / 2 + 1000, mode });
        const dst = join(tmp.path, `down-${transport}-${mode}.out`);
        const got = await client.downloadToFile(version, `down-${transport}-${mode}.bin`, dst, { transport, retry });
        expect(proxy.faults).toBe(1);
        expect(got.downloaded).toBe(true);
        expect(proxy.bytes.down - before).toBeLessThan(SIZE + (256 << 10));
        expect(Buffer.compare(await readFile(dst), src.data)).toBe(0);
      }, 30_000);
    }
  });
}

it("gives up after the retries with the last error, and a clear message for a stalled connection", async () => {
  const src = await file("give-up.bin");
  const version = await newVersion(server.client);
  await server.client.uploadFile(version, src.path);
  // Every HTTP/1.1 connection (the GETs) stalls: its request never reaches the
  // server, so each attempt is counted by the proxy the moment the client
  // sends it, however slowly the server would have answered; the RPCs (HTTP/2) pass.
  proxy.arm({ direction: "up", afterBytes: 0, mode: "stall", protocol: "http1", times: 100 });
  const fast = createRegistryClient({ baseUrl: proxy.url, accessKey: "", transferIdleMs: 200 });
  const out = join(tmp.path, "give-up.out");
  const err = await fast.downloadToFile(version, "give-up.bin", out, { retry: { attempts: 3, baseDelayMs: 5 } }).catch((e) => e);
  expect(err).toMatchObject({ code: Code.DeadlineExceeded, rawMessage: expect.stringContaining("no bytes moved for 200 ms") });
  expect(proxy.faults).toBe(3);
  await expect(readFile(out)).rejects.toMatchObject({ code: "ENOENT" });
}, 30_000);
