// downloadExport through a loopback proxy that cuts the connection mid-way:
// the download resumes with Range from the last byte written; and when the
// signed URL has expired by then (the clock moved two hours), a fresh URL is
// fetched with GetExport and the download still completes, verified.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createRegistryClient } from "../client.js";
import { startFlakyProxy, type FlakyProxy } from "../testing/flaky-proxy.js";
import { newVersion, patterned, tempDir } from "../testing/fixtures.js";
import { sha256Hex } from "../transfers/hash.js";

const SIZE = 2 << 20;
const retry = { baseDelayMs: 10, maxDelayMs: 50 };

let server: TestServer;
let proxy: FlakyProxy;
let tmp: { path: string; remove(): Promise<void> };
let version: string;

beforeAll(async () => {
  // Only Date is faked (and it runs on): the server's URL signer reads this clock.
  vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
  server = await startTestServer("pglite");
  proxy = await startFlakyProxy(server.url);
  tmp = await tempDir("sdk-export-resume");
  const src = join(tmp.path, "weights.bin");
  await writeFile(src, patterned(SIZE, 4242));
  version = await newVersion(server.client);
  await server.client.uploadFile(version, src);
}, 60_000);
afterAll(async () => {
  vi.useRealTimers();
  await proxy?.close();
  await server?.close();
  await tmp?.remove();
});

function countingClient() {
  const calls: string[] = [];
  const count: Interceptor = (next) => (req) => {
    calls.push(req.method.name);
    return next(req);
  };
  return { calls, client: createRegistryClient({ baseUrl: proxy.url, accessKey: "", interceptors: [count] }) };
}

describe("downloadExport", () => {
  it("resumes after a cut connection, from where it stopped", async () => {
    const exp = await server.client.waitForExport(await server.client.startExport(version, "tar"), { pollMs: 50, timeoutMs: 30_000 });
    const { client } = countingClient();
    const before = proxy.bytes.down;
    proxy.arm({ direction: "down", afterBytes: SIZE / 2, mode: "cut", protocol: "http1" });
    const got = await client.downloadExport(exp, join(tmp.path, "a.tar"), { retry });
    expect(proxy.faults).toBe(1);
    expect(got.sha256).toBe(exp.sha256);
    expect(sha256Hex(await readFile(got.localPath))).toBe(exp.sha256);
    // Resumed, not restarted.
    expect(proxy.bytes.down - before).toBeLessThan(Number(exp.sizeBytes) + (512 << 10));
  }, 30_000);

  it("gets a fresh URL from GetExport when the signed URL expired meanwhile", async () => {
    const exp = await server.client.waitForExport(await server.client.startExport(version, "zip"), { pollMs: 50, timeoutMs: 30_000 });
    const { client, calls } = countingClient();
    const faults = proxy.faults;
    proxy.arm({ direction: "down", afterBytes: SIZE / 2, mode: "cut", protocol: "http1" });
    let moved = false;
    const got = await client.downloadExport(exp.name, join(tmp.path, "b.zip"), {
      retry,
      onProgress: (p) => {
        // Past the first bytes: two hours later, the URL (valid for one) has expired.
        if (!moved && p.bytesDone > 0) {
          moved = true;
          vi.setSystemTime(Date.now() + 2 * 3600_000);
        }
      },
    });
    expect(moved).toBe(true);
    expect(proxy.faults - faults).toBe(1);
    expect(calls.filter((m) => m === "GetExport")).toHaveLength(2);
    expect(got.sha256).toBe(exp.sha256);
    expect(sha256Hex(await readFile(got.localPath))).toBe(exp.sha256);
    expect(got.export.downloadUrl).not.toBe(exp.downloadUrl);
  }, 30_000);
});
