// Large files go out while they are hashed, against the real server (fresh
// database and blob store, loopback HTTP), over both byte paths, and dedup
// holds: content the workspace already holds sends nothing, even from a
// file this client never hashed; only a file the workspace cannot hold
// (new size, or new first MiB) is sent before its digest is known.
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeEachDatabase } from "@modelreg/db/testing";
import { VersionState } from "@modelreg/proto";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newVersion, patterned, tempDir } from "../testing/fixtures.js";
import type { TransferProgress } from "./context.js";
import { cachedDigest } from "./digest-cache.js";
import { sha256Hex } from "./hash.js";
import { SEND_WHILE_HASHING_MIN_BYTES } from "./send-while-hashing.js";

const SIZE = SEND_WHILE_HASHING_MIN_BYTES + 12_345;
let seed = 100;

/** What an upload reported: bytes sent and bytes hashed before staging, each the last report. */
function recorder() {
  const sent: TransferProgress[] = [];
  const hashed: TransferProgress[] = [];
  return {
    options: { onProgress: (p: TransferProgress) => sent.push(p), onHashProgress: (p: TransferProgress) => hashed.push(p) },
    sent: () => sent.at(-1),
    hashed: () => hashed.at(-1),
  };
}

describeEachDatabase("sending while hashing", (kind) => {
  let server: TestServer;
  let tmp: { path: string; remove(): Promise<void> };
  const savedCache = process.env.MODELREG_CACHE_DIR;
  beforeAll(async () => {
    server = await startTestServer(kind);
    tmp = await tempDir("sdk-send-hashing");
    process.env.MODELREG_CACHE_DIR = join(tmp.path, "cache");
  }, 60_000);
  afterAll(async () => {
    if (savedCache === undefined) delete process.env.MODELREG_CACHE_DIR;
    else process.env.MODELREG_CACHE_DIR = savedCache;
    await server?.close();
    await tmp?.remove();
  });

  for (const transport of ["http", "stream"] as const) {
    describe(`transport ${transport}`, () => {
      it("sends a large file new to the workspace without hashing it first, and remembers its digest", async () => {
        const data = patterned(SIZE, seed++);
        const src = join(tmp.path, `${transport}-new.bin`);
        await writeFile(src, data);
        const version = await newVersion(server.client);
        const r = recorder();
        const ready = await server.client.uploadFile(version, src, { transport, chunkBytes: 4 << 20, ...r.options });
        expect(ready).toMatchObject({ state: VersionState.READY, fileCount: 1n, totalSizeBytes: BigInt(SIZE) });
        // Its bytes were sent; none of them went through the hash-first pass.
        expect(r.sent()).toMatchObject({ bytesDone: SIZE, bytesTotal: SIZE });
        expect(r.hashed()).toMatchObject({ bytesDone: 0, bytesTotal: 0 });
        expect(await cachedDigest(src)).toEqual({ sizeBytes: SIZE, sha256: sha256Hex(data) });
        const dst = join(tmp.path, `${transport}-new.out`);
        await server.client.downloadToFile(version, `${transport}-new.bin`, dst, { transport });
        expect(Buffer.compare(await readFile(dst), data)).toBe(0);
      });

      it("sends nothing for content the workspace holds, from a copy this client never hashed", async () => {
        const data = patterned(SIZE, seed++);
        const first = join(tmp.path, `${transport}-first.bin`);
        await writeFile(first, data);
        await server.client.uploadFile(await newVersion(server.client), first, { transport });
        // Identical weights from another run: a new file (new inode), not in the digest cache.
        const again = join(tmp.path, `${transport}-again.bin`);
        await copyFile(first, again);
        expect(await cachedDigest(again)).toBeUndefined();
        const r = recorder();
        const ready = await server.client.uploadFile(await newVersion(server.client), again, { transport, ...r.options });
        expect(ready).toMatchObject({ state: VersionState.READY, totalSizeBytes: BigInt(SIZE) });
        expect(r.sent()).toMatchObject({ bytesDone: 0, bytesTotal: 0 });
        // It was hashed first instead, since the workspace might hold it.
        expect(r.hashed()).toMatchObject({ bytesDone: SIZE, bytesTotal: SIZE });
      });

      it("sends a file of a held size whose first MiB is new, and with hashWhileSending: false hashes it first", async () => {
        const held = patterned(SIZE, seed++);
        const heldPath = join(tmp.path, `${transport}-held.bin`);
        await writeFile(heldPath, held);
        await server.client.uploadFile(await newVersion(server.client), heldPath, { transport });
        const other = Buffer.from(held);
        other[0] = other[0]! ^ 0xff;
        const otherPath = join(tmp.path, `${transport}-other.bin`);
        await writeFile(otherPath, other);
        const r = recorder();
        await server.client.uploadFile(await newVersion(server.client), otherPath, { transport, ...r.options });
        expect(r.sent()).toMatchObject({ bytesDone: SIZE, bytesTotal: SIZE });
        expect(r.hashed()).toMatchObject({ bytesTotal: 0 });

        const third = patterned(SIZE, seed++);
        const thirdPath = join(tmp.path, `${transport}-third.bin`);
        await writeFile(thirdPath, third);
        const off = recorder();
        await server.client.uploadFile(await newVersion(server.client), thirdPath, { transport, hashWhileSending: false, ...off.options });
        expect(off.hashed()).toMatchObject({ bytesDone: SIZE, bytesTotal: SIZE });
        expect(off.sent()).toMatchObject({ bytesDone: SIZE, bytesTotal: SIZE });
      });
    });
  }
});
