// MD5 on the worker thread: the same digest as in-thread hashing, whatever
// the chunking, with the caller held back when it runs ahead.
import { createHash, randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { Digester, hashedBody } from "./blob-store.js";
import { ThreadMd5 } from "./md5-thread.js";

const md5Of = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

it("gives the digest in-thread hashing gives, for empty, odd-sized and batch-crossing input", async () => {
  const data = randomBytes(5 * 1024 * 1024 + 123);
  const empty = new ThreadMd5();
  expect(await empty.digest()).toBe(md5Of(Buffer.alloc(0)));
  const h = new ThreadMd5();
  for (let pos = 0; pos < data.length; pos += 777_777) h.update(data.subarray(pos, pos + 777_777));
  expect(await h.digest()).toBe(md5Of(data));
});

it("hashes several bodies at once on the one thread, and a dropped one leaves the others alone", async () => {
  const bodies = [randomBytes(3 << 20), randomBytes(1 << 20), randomBytes(100)];
  const dropped = new ThreadMd5();
  dropped.update(randomBytes(2 << 20));
  const digests = bodies.map(async (b) => {
    const d = new Digester({ md5: "thread" });
    for await (const _ of hashedBody([b.subarray(0, b.length >> 1), b.subarray(b.length >> 1)], d, {}));
    return d.result();
  });
  dropped.dispose();
  const got = await Promise.all(digests);
  expect(got.map((r) => r.md5)).toEqual(bodies.map(md5Of));
  expect(got.map((r) => r.sha256)).toEqual(bodies.map((b) => createHash("sha256").update(b).digest("hex")));
});

it("holds the caller back when the thread is far behind, and lets it go once it catches up", async () => {
  const h = new ThreadMd5();
  const chunk = randomBytes(1 << 20);
  const all = createHash("md5");
  let waited = 0;
  for (let i = 0; i < 64; i++) {
    h.update(chunk);
    all.update(chunk);
    if (h.backlogged) {
      waited += 1;
      await h.drained();
      expect(h.backlogged).toBe(false);
    }
  }
  expect(waited).toBeGreaterThan(0);
  expect(await h.digest()).toBe(all.digest("hex"));
});

it("refuses result() before the thread's digest is in", () => {
  const d = new Digester({ md5: "thread" });
  d.update(randomBytes(10));
  expect(() => d.result()).toThrow(/settle/);
  d.dispose();
});
