// pushedChunks(): a byte stream's chunks one by one, never copied into one,
// with backpressure, its errors, and the stream destroyed when the reader
// stops early.
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { isByteStream, pushedChunks } from "./pushed-chunks.js";
import { readBody } from "./blob-store.js";

const chunk = (n: number, fill: number) => Buffer.alloc(n, fill);

describe("pushedChunks", () => {
  it("hands out each buffered chunk itself, not a copy of them joined", async () => {
    const chunks = [chunk(1000, 1), chunk(2000, 2), chunk(3000, 3)];
    // All three wait in the stream's buffer before the first read.
    const s = new PassThrough({ highWaterMark: 1 << 20 });
    for (const c of chunks) s.write(c);
    s.end();
    const got: Uint8Array[] = [];
    for await (const c of pushedChunks(s)) got.push(c as Uint8Array);
    expect(got).toHaveLength(3);
    for (const [i, c] of got.entries()) expect(c).toBe(chunks[i]);
  });

  it("keeps backpressure: a reader that stops pulling leaves the source paused within its high-water mark", async () => {
    let produced = 0;
    const source = new Readable({
      highWaterMark: 4096,
      read() {
        produced += 1;
        this.push(produced <= 1000 ? chunk(1024, produced % 256) : null);
      },
    });
    const it = pushedChunks(source)[Symbol.asyncIterator]();
    await it.next();
    // Give the stream every chance to run ahead of a reader that is not reading.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(produced).toBeLessThan(12);
    expect(source.isPaused()).toBe(true);
    let total = 1;
    for (let r = await it.next(); !r.done; r = await it.next()) total += 1;
    expect(total).toBe(1000);
  });

  it("reads a stream someone paused before it was handed over", async () => {
    const s = new PassThrough();
    s.pause();
    s.end(chunk(10, 7));
    const got: Uint8Array[] = [];
    for await (const c of pushedChunks(s)) got.push(c as Uint8Array);
    expect(Buffer.concat(got)).toEqual(chunk(10, 7));
  });

  it("ends an empty stream at once", async () => {
    const got: unknown[] = [];
    for await (const c of pushedChunks(Readable.from([], { objectMode: false }))) got.push(c);
    expect(got).toEqual([]);
  });

  it("fails with the stream's error, after the chunks that came before it", async () => {
    const s = new PassThrough();
    s.write(chunk(5, 1));
    const got: Uint8Array[] = [];
    const reading = (async () => {
      for await (const c of pushedChunks(s)) {
        got.push(c as Uint8Array);
        s.destroy(new Error("disk gone"));
      }
    })();
    await expect(reading).rejects.toThrow("disk gone");
    expect(got).toHaveLength(1);
  });

  it("fails when the stream closes before its end", async () => {
    const s = new PassThrough();
    s.write(chunk(5, 1));
    setImmediate(() => s.destroy());
    await expect((async () => {
      for await (const _ of pushedChunks(s));
    })()).rejects.toMatchObject({ code: "ERR_STREAM_PREMATURE_CLOSE" });
  });

  it("destroys the stream when the reader stops early", async () => {
    const s = new PassThrough();
    s.write(chunk(5, 1));
    s.write(chunk(5, 2));
    for await (const _ of pushedChunks(s)) break;
    expect(s.destroyed).toBe(true);
  });

  it("tells byte streams from object streams and iterables", () => {
    expect(isByteStream(new PassThrough())).toBe(true);
    expect(isByteStream(new PassThrough({ objectMode: true }))).toBe(false);
    expect(isByteStream([chunk(1, 1)])).toBe(false);
    expect(isByteStream(null)).toBe(false);
  });
});

describe("readBody", () => {
  it("reads a Node byte stream's chunks as pushed, and still refuses strings", async () => {
    const chunks = [chunk(100, 1), chunk(200, 2)];
    const s = new PassThrough();
    for (const c of chunks) s.write(c);
    s.end();
    const got: Uint8Array[] = [];
    for await (const c of readBody(s)) got.push(c);
    expect(got).toEqual(chunks);
    expect(got[1]).toBe(chunks[1]);

    const text = new PassThrough({ encoding: "utf8" });
    text.end("abc");
    await expect((async () => {
      for await (const _ of readBody(text));
    })()).rejects.toThrow("yields bytes, not strings");
  });

  it("destroys a stream with the abort's reason", async () => {
    const s = new PassThrough();
    s.write(chunk(5, 1));
    const ac = new AbortController();
    const reading = (async () => {
      for await (const _ of readBody(s, ac.signal)) ac.abort(new Error("client went away"));
    })();
    await expect(reading).rejects.toThrow("client went away");
    expect(s.destroyed).toBe(true);
  });
});
