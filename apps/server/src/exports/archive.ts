// Archive writers for exports: tar, tar.gz and zip, as one byte stream.
//
// Deterministic: the same entries give the same bytes. Entries come in the
// order given (the caller sorts them), every entry gets the same mtime, mode
// 0644, owner 0:0 and no user or group names, no directory entries are
// written, gzip's header carries no time and zip entries are stored
// uncompressed. Long paths get pax headers (tar) and sizes past 4 GiB ZIP64
// records (zip), both from the libraries.
import { PassThrough, Readable } from "node:stream";
import { createGzip, constants as zlib } from "node:zlib";
import tar from "tar-stream";
import yazl from "yazl";

export type ArchiveFormat = "tar" | "tar.gz" | "zip";

export interface ArchiveEntry {
  path: string;
  size: number;
  /** false: its bytes are not told to onBytes (modelreg.json, which is not one of the version's files). */
  counted?: boolean;
  /** The entry's bytes; called once, when the archive reaches the entry. */
  open(): Promise<AsyncIterable<Uint8Array> & NodeJS.ReadableStream>;
}

export const ARCHIVE_TYPES: Record<ArchiveFormat, { extension: string; mediaType: string }> = {
  tar: { extension: ".tar", mediaType: "application/x-tar" },
  "tar.gz": { extension: ".tar.gz", mediaType: "application/gzip" },
  zip: { extension: ".zip", mediaType: "application/zip" },
};

const FILE_MODE = 0o644;
/** zip keeps the type bits with the permissions: a regular file. */
const ZIP_FILE_MODE = 0o100644;

/**
 * The archive of `entries` as one stream. `onBytes` is told how many entry
 * bytes (not archive bytes) were read, as they are read; an aborted signal
 * ends the stream with its reason.
 */
export function archiveStream(
  format: ArchiveFormat,
  entries: ArchiveEntry[],
  opts: { mtime: Date; signal?: AbortSignal; onBytes?: (n: number) => void },
): Readable {
  const counted = async (e: ArchiveEntry) => {
    const source = await e.open();
    return countBytes(source, e.counted === false ? { signal: opts.signal } : opts);
  };
  const out = archiveOf(format, entries, counted, opts.mtime);
  // Its errors reach whoever reads it; one whose reader gave up before the
  // first read (a put refused at once, its signal aborted already) must
  // not end the process with an unheard 'error' when an entry fails later.
  out.on("error", () => {});
  return out;
}

function archiveOf(format: ArchiveFormat, entries: ArchiveEntry[], counted: Counted, mtime: Date): Readable {
  if (format === "zip") return zipStream(entries, counted, mtime);
  const tarball = tarStream(entries, counted, mtime);
  if (format === "tar") return tarball;
  // Level 6 is gzip's own default (what `tar czf` gives).
  const gzip = createGzip({ level: 6, chunkSize: 1 << 20, flush: zlib.Z_NO_FLUSH });
  tarball.on("error", (err) => gzip.destroy(err));
  return tarball.pipe(gzip);
}

/**
 * The entry's bytes, told to onBytes as they pass. The source is destroyed
 * when the signal aborts (even before the first read, so an open file is
 * never left to the garbage collector) and when reading stops early.
 */
function countBytes(source: AsyncIterable<Uint8Array> & NodeJS.ReadableStream, opts: { signal?: AbortSignal; onBytes?: (n: number) => void }): AsyncGenerator<Uint8Array> {
  const destroy = (err?: unknown) => (source as { destroy?: (err?: unknown) => void }).destroy?.(err);
  // Heard for the source's whole life: its errors reach the archive through
  // the reads below, but one destroyed with the abort's reason before any
  // read (the signal aborted while the store opened it) has no reader, and
  // an unheard 'error' would end the process.
  source.on("error", () => {});
  const onAbort = () => destroy(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener("abort", onAbort, { once: true });
  return (async function* () {
    try {
      opts.signal?.throwIfAborted();
      for await (const chunk of source) {
        opts.signal?.throwIfAborted();
        opts.onBytes?.(chunk.length);
        yield chunk;
      }
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      destroy();
    }
  })();
}

type Counted = (e: ArchiveEntry) => Promise<AsyncGenerator<Uint8Array>>;

function tarStream(entries: ArchiveEntry[], counted: Counted, mtime: Date): Readable {
  const pack = tar.pack();
  const write = async () => {
    for (const e of entries) {
      const header = { name: e.path, size: e.size, mtime, mode: FILE_MODE, uid: 0, gid: 0, uname: "", gname: "", type: "file" as const };
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        (async () => {
          for await (const chunk of await counted(e)) if (!sink.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))) await new Promise<void>((r) => sink.once("drain", () => r()));
          sink.end(undefined as never);
        })().catch(reject);
        // The pack is destroyed with the error (below), and the entry with it: heard there, not here.
        sink.on("error", () => {});
      });
    }
    pack.finalize();
  };
  write().catch((err: unknown) => pack.destroy(err as Error));
  // tar-stream's pack is a streamx Readable; hand the caller a Node one.
  const out = chunkStream();
  pack.on("error", (err: Error) => out.destroy(err));
  pack.pipe(out);
  return out;
}

function zipStream(entries: ArchiveEntry[], counted: Counted, mtime: Date): Readable {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    zip.addReadStreamLazy(e.path, { mtime, mode: ZIP_FILE_MODE, compress: false, size: e.size }, (cb) => {
      counted(e).then(
        (source) => {
          // A Node stream of the entry's bytes; a failed source fails the archive.
          const s = Readable.from(source, { objectMode: false, highWaterMark: 1 << 20 });
          s.once("error", (err: Error) => out.destroy(err));
          cb(null, s);
        },
        (err: unknown) => cb(err, undefined as never),
      );
    });
  }
  zip.end();
  const out = chunkStream();
  zip.on("error", (err: Error) => out.destroy(err));
  (zip.outputStream as Readable).on("error", (err: Error) => out.destroy(err));
  zip.outputStream.pipe(out);
  return out;
}

/**
 * The archive's output: a stream that hands its reader the chunks written to
 * it one by one. A byte stream would join what it has buffered into one new
 * buffer on each read (Readable.read() with no size): for an export that
 * was a copy of most of the archive, new memory the garbage collector then
 * had to chase, and the files' read buffers never went back for reuse
 * (storage/read-buffers.ts). Up to 1 MiB waits on the way in, two chunks
 * on the way out.
 */
function chunkStream(): PassThrough {
  return new PassThrough({ writableHighWaterMark: 1 << 20, readableObjectMode: true, readableHighWaterMark: 2 });
}

/** An in-memory entry (modelreg.json), not counted in the progress. */
export function bufferEntry(path: string, bytes: Uint8Array): ArchiveEntry {
  return {
    path,
    size: bytes.length,
    counted: false,
    open: async () => Readable.from([bytes]),
  };
}
