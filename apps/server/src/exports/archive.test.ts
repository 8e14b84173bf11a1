// The archive stream when its signal aborts while an entry's bytes are being
// opened (an export stopped at shutdown, or cancelled, while the blob store
// answers), or before its reader began: no source or archive destroyed with
// the abort's reason may crash the process with an unheard 'error'.
import { Readable } from "node:stream";
import { expect, it } from "vitest";
import { archiveStream, type ArchiveFormat } from "./archive.js";

for (const format of ["tar", "tar.gz", "zip"] as ArchiveFormat[]) {
  it(`ends with the abort's reason, and nothing unheard, when the signal aborts while an entry opens (${format})`, async () => {
    const abort = new AbortController();
    let opened: Readable | undefined;
    const entries = [
      {
        path: "w.bin",
        size: 4,
        // The store answers only after the abort.
        open: async () => {
          abort.abort(new Error("the server is shutting down"));
          await new Promise((r) => setImmediate(r));
          opened = Readable.from([Buffer.from("abcd")]);
          return opened as Readable & AsyncIterable<Uint8Array>;
        },
      },
    ];
    const out = archiveStream(format, entries, { mtime: new Date(0), signal: abort.signal });
    const read = (async () => {
      for await (const _ of out);
    })();
    await expect(read).rejects.toThrow("the server is shutting down");
    // Whatever the source emits now happens with the test still running.
    await new Promise((r) => setTimeout(r, 50));
    expect(opened?.destroyed).toBe(true);
  });
}

for (const format of ["tar", "tar.gz", "zip"] as ArchiveFormat[]) {
  it(`fails quietly when the signal has aborted and nobody reads it (${format})`, async () => {
    const abort = new AbortController();
    abort.abort(new Error("the server is shutting down"));
    const opened: Readable[] = [];
    const entry = (path: string) => ({
      path,
      size: 4,
      open: async () => {
        const s = Readable.from([Buffer.from("abcd")]);
        opened.push(s);
        return s as Readable & AsyncIterable<Uint8Array>;
      },
    });
    const out = archiveStream(format, [entry("a.bin"), entry("b.bin")], { mtime: new Date(0), signal: abort.signal });
    // A reader that gives up before reading (as a put does whose signal has aborted).
    await new Promise<void>((resolve) => out.once("close", () => resolve()));
    expect(out.destroyed).toBe(true);
    expect(opened.every((s) => s.destroyed)).toBe(true);
  });
}

for (const format of ["tar", "zip"] as ArchiveFormat[]) {
  it(`hands its reader the entries' own chunks, never joined copies, however far the reader falls behind (${format})`, async () => {
    const chunks = Array.from({ length: 8 }, (_, i) => Buffer.alloc(256 << 10, i + 1));
    const entries = [
      {
        path: "w.bin",
        size: chunks.length * chunks[0]!.length,
        // As the file store reads: a stream of chunks (storage/fs-read-stream.ts).
        open: async () => Readable.from(chunks) as Readable & AsyncIterable<Uint8Array>,
      },
    ];
    const out = archiveStream(format, entries, { mtime: new Date(0) });
    // A slow reader: everything that fits is buffered before each read.
    const got: Uint8Array[] = [];
    for await (const chunk of out) {
      got.push(chunk as Uint8Array);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
    const sources = new Set(chunks.map((c) => c.buffer));
    // Each file chunk comes through as a view of its own memory (the read buffers go back for reuse, storage/read-buffers.ts).
    expect(got.filter((c) => sources.has(c.buffer as ArrayBuffer)).map((c) => c.length)).toEqual(chunks.map((c) => c.length));
  });
}
