// A blob file's bytes (or a range of them) as a stream, read through an open
// handle into the store's reusable 1 MiB buffers (./read-buffers.ts) rather
// than a fresh buffer per read, as fs.createReadStream does. Each chunk is a
// Buffer, a view of its own read buffer; the handle is closed when the
// stream ends, fails or is destroyed.
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { READ_BUFFER_BYTES, takeReadBuffer } from "./read-buffers.js";

export class BlobReadStream extends Readable {
  readonly #handle: FileHandle;
  #position: number;
  readonly #end: number;

  /** Bytes [start, end) of the file open as `handle`; the stream owns the handle from here on. */
  constructor(handle: FileHandle, start: number, end: number) {
    // Chunks, not bytes: a byte stream joins what it has buffered into one
    // new buffer when read (Readable.read() with no size), a copy that would
    // also keep the buffers from going back for reuse. One chunk buffered
    // ahead: a read is a thread-pool round trip, so the next one runs while
    // the reader works on this one.
    super({ objectMode: true, highWaterMark: 1 });
    this.#handle = handle;
    this.#position = start;
    this.#end = end;
  }

  override _read(): void {
    const want = Math.min(READ_BUFFER_BYTES, this.#end - this.#position);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buffer = takeReadBuffer();
    this.#handle.read(buffer, 0, want, this.#position).then(
      ({ bytesRead }) => {
        if (this.destroyed) return;
        // A file cut short meanwhile (it cannot be, blobs are never
        // rewritten): end where its bytes end, as a read stream does.
        if (bytesRead === 0) {
          this.push(null);
          return;
        }
        this.#position += bytesRead;
        this.push(buffer.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#handle.close().then(
      () => callback(err),
      (closeErr: Error) => callback(err ?? closeErr),
    );
  }
}
