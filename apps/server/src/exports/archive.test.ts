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
