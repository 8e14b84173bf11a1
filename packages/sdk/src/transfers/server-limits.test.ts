// The SDK within the server's limits: chunks capped by max_chunk_bytes,
// uploads beyond the per-key limit retried (RESOURCE_EXHAUSTED / 429 with a
// retry hint) until they fit, and the S3 blob store behind the same paths.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { VersionState } from "@modelreg/proto";
import { Code } from "../errors.js";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newVersion, patterned, tempDir } from "../testing/fixtures.js";

let tmp: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  tmp = await tempDir("sdk-limits");
});
afterAll(() => tmp?.remove());

async function tree(name: string, files: number, size: number, seed: number): Promise<string> {
  const dir = join(tmp.path, name);
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(join(dir, `part-${i}.bin`), patterned(size, seed + i));
  return dir;
}

describe("a server with small chunks and one upload per key at a time", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("pglite", { maxChunkBytes: 1 << 20, uploadsPerKey: 1 });
  }, 60_000);
  afterAll(() => server?.close());

  for (const transport of ["http", "stream"] as const) {
    it(`uploads a directory with concurrency 4 over ${transport}`, async () => {
      const dir = await tree(`limits-${transport}`, 4, (1 << 20) * 2 + 77, transport === "http" ? 100 : 200);
      const version = await newVersion(server.client);
      const retried: Code[] = [];
      const retry = { attempts: 50, baseDelayMs: 5, maxDelayMs: 50, onRetry: ({ error }: { error: { code: Code } }) => retried.push(error.code) };
      const ready = await server.client.uploadDirectory(version, dir, { transport, concurrency: 4, retry });
      expect(ready).toMatchObject({ state: VersionState.READY, fileCount: 4n });
      // Four sessions at once against a limit of one: some waited and retried.
      expect(retried.length).toBeGreaterThan(0);
      expect(new Set(retried)).toEqual(new Set([Code.ResourceExhausted]));
      const out = join(tmp.path, `limits-${transport}-out`);
      await server.client.downloadToDirectory(version, out, { transport });
      for (let i = 0; i < 4; i++) expect(Buffer.compare(await readFile(join(out, `part-${i}.bin`)), await readFile(join(dir, `part-${i}.bin`)))).toBe(0);
    }, 60_000);
  }
});

describe("the S3 blob store", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("pglite", { store: "s3" });
  }, 60_000);
  afterAll(() => server?.close());

  for (const transport of ["http", "stream"] as const) {
    it(`round-trips files over ${transport}`, async () => {
      const dir = await tree(`s3-${transport}`, 2, 300_000, transport === "http" ? 300 : 400);
      await writeFile(join(dir, "empty"), "");
      const version = await newVersion(server.client);
      await server.client.uploadDirectory(version, dir, { transport, chunkBytes: 128 << 10 });
      const got = await server.client.downloadBytes(version, "part-1.bin", { transport, offset: 1000, length: 5000 });
      expect(Buffer.compare(Buffer.from(got), patterned(300_000, transport === "http" ? 301 : 401).subarray(1000, 6000))).toBe(0);
      const out = join(tmp.path, `s3-${transport}-out`);
      const files = await server.client.downloadToDirectory(version, out, { transport });
      expect(files.map((f) => f.path).sort()).toEqual(["empty", "part-0.bin", "part-1.bin"]);
    }, 60_000);
  }
});
