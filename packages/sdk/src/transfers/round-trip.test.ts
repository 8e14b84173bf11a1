// Uploads and downloads against the real server (HTTP on loopback, a fresh
// database and blob store), over both byte paths: signed PUT/GET URLs and
// the WriteUpload/ReadFile streams.
import { mkdir, readFile, readdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeEachDatabase } from "@modelreg/db/testing";
import { VersionState } from "@modelreg/proto";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../errors.js";
import { newVersion, patterned, tempDir } from "../testing/fixtures.js";
import type { TransferProgress } from "./context.js";
import { sha256Hex } from "./hash.js";

const CHUNK = 64 << 10;
let seed = 1;

describeEachDatabase("file transfers", (kind) => {
  let server: TestServer;
  let tmp: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    server = await startTestServer(kind);
    tmp = await tempDir("sdk-transfers");
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await tmp?.remove();
  });

  for (const transport of ["http", "stream"] as const) {
    describe(`transport ${transport}`, () => {
      const cases: [string, number][] = [
        ["an empty file", 0],
        ["a 1-byte file", 1],
        ["a file of exactly one chunk", CHUNK],
        ["a file of several chunks and a partial one", 3 * CHUNK + 123],
      ];
      for (const [title, size] of cases) {
        it(`round-trips ${title} byte for byte`, async () => {
          const data = patterned(size, seed++);
          const src = join(tmp.path, `${transport}-${size}.bin`);
          await writeFile(src, data);
          const version = await newVersion(server.client);
          const progress: TransferProgress[] = [];
          const ready = await server.client.uploadFile(version, src, { transport, chunkBytes: CHUNK, path: "weights/model.bin", onProgress: (p) => progress.push(p) });
          expect(ready).toMatchObject({ name: version, state: VersionState.READY, fileCount: 1n, totalSizeBytes: BigInt(size) });
          expect(ready.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
          expect(progress.at(-1)).toMatchObject({ bytesDone: size, bytesTotal: size });

          const [file] = await listFiles(server, version);
          expect(file).toMatchObject({ path: "weights/model.bin", sizeBytes: BigInt(size), sha256: sha256Hex(data) });

          const dst = join(tmp.path, `${transport}-${size}.out`);
          const got = await server.client.downloadToFile(version, "weights/model.bin", dst, { transport });
          expect(got).toMatchObject({ localPath: dst, sizeBytes: size, sha256: sha256Hex(data), downloaded: true });
          expect(Buffer.compare(await readFile(dst), data)).toBe(0);
          expect((await readdir(tmp.path)).filter((n) => n.endsWith(".part"))).toEqual([]);
        });
      }

      it("reports download progress in steps, not per chunk, with the exact total last", async () => {
        const size = 20 * CHUNK * 3 + 5; // a little over 3.75 MiB
        const data = patterned(size, seed++);
        const src = join(tmp.path, `${transport}-progress.bin`);
        await writeFile(src, data);
        const version = await newVersion(server.client);
        await server.client.uploadFile(version, src, { transport });
        const done: number[] = [];
        const dst = join(tmp.path, `${transport}-progress.out`);
        await server.client.downloadToFile(version, `${transport}-progress.bin`, dst, { transport, onProgress: (p) => done.push(p.bytesDone) });
        expect(done.at(-1)).toBe(size);
        expect(done.every((n, i) => i === 0 || n > done[i - 1]!)).toBe(true);
        // About one report per MiB (and per 100 ms), not one per 64 KiB read.
        expect(done.length).toBeLessThan(size / CHUNK);
        expect(Buffer.compare(await readFile(dst), data)).toBe(0);
        const bytes: number[] = [];
        await server.client.downloadBytes(version, `${transport}-progress.bin`, { transport, onProgress: (p) => bytes.push(p.bytesDone) });
        expect(bytes.at(-1)).toBe(size);
      });

      it("reads byte ranges into memory", async () => {
        const data = patterned(5 * CHUNK, seed++);
        const src = join(tmp.path, `${transport}-range.bin`);
        await writeFile(src, data);
        const version = await newVersion(server.client);
        await server.client.uploadFile(version, src, { transport });
        const whole = await server.client.downloadBytes(version, `${transport}-range.bin`, { transport });
        expect(Buffer.compare(Buffer.from(whole), data)).toBe(0);
        const part = await server.client.downloadBytes(version, `${transport}-range.bin`, { transport, offset: CHUNK - 7, length: 2 * CHUNK + 9 });
        expect(Buffer.compare(Buffer.from(part), data.subarray(CHUNK - 7, 3 * CHUNK + 2))).toBe(0);
        const tail = await server.client.downloadBytes(version, `${transport}-range.bin`, { transport, offset: data.length - 3 });
        expect([...tail]).toEqual([...data.subarray(data.length - 3)]);
        expect((await server.client.downloadBytes(version, `${transport}-range.bin`, { transport, offset: data.length })).length).toBe(0);
      });

      it("round-trips a directory tree; identical content is not sent again and the manifest digest is the same", async () => {
        const src = join(tmp.path, `${transport}-tree`);
        const tree: Record<string, Buffer> = {
          "config.json": Buffer.from(`{"layers": 12, "transport": "${transport}"}`),
          "README.md": Buffer.alloc(0),
          "weights/shard-00001.bin": patterned(2 * CHUNK + 5, seed++),
          "weights/shard-00002.bin": patterned(CHUNK, seed++),
          "weights/copy-of-00002.bin": Buffer.alloc(0),
          "tokenizer/vocab.txt": Buffer.from(`a\nb\n${transport}\n`),
        };
        tree["weights/copy-of-00002.bin"] = tree["weights/shard-00002.bin"]!;
        for (const [p, d] of Object.entries(tree)) {
          await mkdir(join(src, p, ".."), { recursive: true });
          await writeFile(join(src, p), d);
        }
        const distinct = new Map(Object.values(tree).map((d) => [sha256Hex(d), d.length]));
        const newBytes = [...distinct.values()].reduce((a, b) => a + b, 0);

        const first = await newVersion(server.client);
        const progress1: TransferProgress[] = [];
        const hashing: TransferProgress[] = [];
        const v1 = await server.client.uploadDirectory(first, src, { transport, chunkBytes: CHUNK, onProgress: (p) => progress1.push(p), onHashProgress: (p) => hashing.push(p) });
        const localBytes = Object.values(tree).reduce((n, d) => n + d.length, 0);
        expect(hashing[0]).toEqual({ bytesDone: 0, bytesTotal: localBytes });
        expect(hashing.at(-1)).toMatchObject({ bytesDone: localBytes, bytesTotal: localBytes });
        expect(v1).toMatchObject({ state: VersionState.READY, fileCount: 6n });
        expect(progress1.at(-1)).toMatchObject({ bytesDone: newBytes, bytesTotal: newBytes });
        expect((await listFiles(server, first)).map((f) => f.path)).toEqual(Object.keys(tree).sort());

        // The same tree into another version: nothing to send.
        const second = await newVersion(server.client);
        const progress2: TransferProgress[] = [];
        const v2 = await server.client.uploadDirectory(second, src, { transport, onProgress: (p) => progress2.push(p) });
        expect(v2.manifestDigest).toBe(v1.manifestDigest);
        expect(progress2.every((p) => p.bytesTotal === 0 && p.bytesDone === 0)).toBe(true);

        const out = join(tmp.path, `${transport}-tree-out`);
        const pulled = await server.client.downloadToDirectory(second, out, { transport, concurrency: 2 });
        expect(pulled.map((f) => f.path).sort()).toEqual(Object.keys(tree).sort());
        expect(pulled.every((f) => f.downloaded)).toBe(true);
        for (const [p, d] of Object.entries(tree)) expect(Buffer.compare(await readFile(join(out, p)), d), p).toBe(0);

        // Again: every file is there with the right sha256, so nothing moves; a changed file is fetched anew.
        await writeFile(join(out, "tokenizer/vocab.txt"), "changed");
        const progress3: TransferProgress[] = [];
        const again = await server.client.downloadToDirectory(second, out, { transport, onProgress: (p) => progress3.push(p) });
        expect(again.filter((f) => f.downloaded).map((f) => f.path)).toEqual(["tokenizer/vocab.txt"]);
        const vocab = tree["tokenizer/vocab.txt"]!;
        expect(progress3.at(-1)).toMatchObject({ bytesDone: vocab.length, bytesTotal: vocab.length });
        expect(Buffer.compare(await readFile(join(out, "tokenizer/vocab.txt")), vocab)).toBe(0);
      });
    });
  }

  describe("rules and errors", () => {
    it("refuses to read a version before its files are committed", async () => {
      const version = await newVersion(server.client);
      await expect(server.client.downloadToDirectory(version, join(tmp.path, "never"))).rejects.toMatchObject({ code: Code.FailedPrecondition });
    });

    it("replaces the files of a READY version only with overwrite", async () => {
      const a = join(tmp.path, "a.txt");
      await writeFile(a, "first");
      const version = await newVersion(server.client);
      await server.client.uploadFile(version, a);
      await writeFile(a, "second");
      await expect(server.client.uploadFile(version, a)).rejects.toMatchObject({ code: Code.FailedPrecondition });
      const replaced = await server.client.uploadFile(version, a, { overwrite: true, path: "b.txt" });
      expect(replaced.state).toBe(VersionState.READY);
      expect(Buffer.from(await server.client.downloadBytes(version, "b.txt")).toString()).toBe("second");
      await expect(server.client.downloadBytes(version, "a.txt")).rejects.toMatchObject({ code: Code.NotFound });
    });

    it("writes into an existing directory target under the file's name", async () => {
      const src = join(tmp.path, "named.txt");
      await writeFile(src, "hello");
      const version = await newVersion(server.client);
      await server.client.uploadFile(version, src);
      const into = join(tmp.path, "into");
      await mkdir(into);
      const got = await server.client.downloadToFile(version.replace(/^workspaces\/default\/models\//, "").replace("/versions/", ":"), "named.txt", into);
      expect(got.localPath).toBe(join(into, "named.txt"));
      expect(await readFile(got.localPath, "utf8")).toBe("hello");
    });

    it("writes to the file's name in the working directory when no target is given", async () => {
      const src = join(tmp.path, "here.txt");
      await writeFile(src, "in the cwd");
      const version = await newVersion(server.client);
      await server.client.uploadFile(version, src, { path: "nested/dir/here.txt" });
      const cwd = join(tmp.path, "cwd");
      await mkdir(cwd);
      const before = process.cwd();
      process.chdir(cwd);
      try {
        const got = await server.client.downloadToFile(version, "nested/dir/here.txt");
        expect(got.localPath).toBe(join(cwd, "here.txt"));
      } finally {
        process.chdir(before);
      }
      expect(await readFile(join(cwd, "here.txt"), "utf8")).toBe("in the cwd");
    });

    it("refuses symbolic links in a directory before anything is staged", async () => {
      const dir = join(tmp.path, "with-link");
      await mkdir(dir);
      await writeFile(join(dir, "real.bin"), "x");
      await symlink(join(dir, "real.bin"), join(dir, "alias.bin"));
      const version = await newVersion(server.client);
      await expect(server.client.uploadDirectory(version, dir)).rejects.toThrow(/alias\.bin is a symbolic link/);
      const v = await server.client.versions.getVersion({ ref: { case: "name", value: version } });
      expect(v.version!.state).toBe(VersionState.PENDING);
    });

    it("stops when the caller aborts, leaving nothing at the target (only the partial file a next download continues)", async () => {
      const data = patterned(8 * CHUNK, seed++);
      const src = join(tmp.path, "abort.bin");
      await writeFile(src, data);
      const version = await newVersion(server.client);
      await server.client.uploadFile(version, src);
      const ac = new AbortController();
      const dst = join(tmp.path, "abort-out", "abort.bin");
      const p = server.client.downloadToFile(version, "abort.bin", dst, {
        signal: ac.signal,
        onProgress: (pr) => {
          if (pr.bytesDone > 0) ac.abort();
        },
      });
      await expect(p).rejects.toMatchObject({ code: Code.Canceled });
      expect(await stat(dst).catch(() => undefined)).toBeUndefined();
      expect((await readdir(join(tmp.path, "abort-out"))).sort()).toEqual(["abort.bin.modelreg-partial", "abort.bin.modelreg-partial.json"]);
    });
  });
});

async function listFiles(server: TestServer, version: string) {
  const files = [];
  for await (const f of server.client.listAllFiles(version)) files.push(f);
  return files;
}
