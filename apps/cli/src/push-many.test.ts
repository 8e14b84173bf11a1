// The largest manifest the contract allows, pushed by the CLI against the
// real server on loopback, on both databases: 10,000 files of new content
// (small ones: the count is what matters) become one READY version, and a
// second push of the same tree sends nothing.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeEachDatabase } from "@modelreg/db/testing";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { run } from "./run.js";

const FILES = 10_000;

describeEachDatabase("push of 10,000 files", (kind) => {
  let server: TestServer;
  let cwd: string;
  const digestCache = process.env.MODELREG_DIGEST_CACHE;
  beforeAll(async () => {
    server = await startTestServer(kind);
    cwd = await mkdtemp(join(tmpdir(), "cli-push-many-"));
    // Every file is hashed: the cache (one file, read and written whole per
    // digest) is not what this test is about, and stays out of the home directory.
    process.env.MODELREG_DIGEST_CACHE = "off";
    for (let d = 0; d < FILES / 100; d++) {
      await mkdir(join(cwd, "tree", `d${d}`), { recursive: true });
      await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(cwd, "tree", `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`)));
    }
  }, 120_000);
  afterAll(async () => {
    if (digestCache === undefined) delete process.env.MODELREG_DIGEST_CACHE;
    else process.env.MODELREG_DIGEST_CACHE = digestCache;
    await server?.close();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  async function push(ref: string) {
    const b = bufferIo({}, { cwd });
    const code = await run(["--server", server.url, "push", "tree", ref, "-o", "json"], b.io);
    if (code !== 0) throw new Error(`modelreg push tree ${ref} exited ${code}: ${b.stderr}`);
    return JSON.parse(b.stdout);
  }

  it("pushes 10,000 files of new content into one READY version, and the same tree again without sending it", async () => {
    const models = bufferIo({}, { cwd });
    expect(await run(["--server", server.url, "models", "create", "many"], models.io)).toBe(0);
    const bytes = Array.from({ length: FILES }, (_, i) => `file ${Math.floor(i / 100)}/${i % 100}\n`.length).reduce((a, b) => a + b, 0);
    const first = await push("many:1.0.0");
    expect(first).toMatchObject({ state: "VERSION_STATE_READY", fileCount: String(FILES), totalSizeBytes: String(bytes) });
    const second = await push("many:2.0.0");
    expect(second).toMatchObject({ state: "VERSION_STATE_READY", fileCount: String(FILES), manifestDigest: first.manifestDigest });
  }, 1_200_000);
});
