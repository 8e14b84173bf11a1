// Downloading a file of a READY version into the page: GET on its signed
// URL (Range to continue after a dropped connection; a refused URL listed
// anew once per stretch of progress), the bytes written into one buffer of
// the file's size, and a whole file checked against its sha256 with Web
// Crypto before it is handed over: a file that does not hash to its
// manifest's sha256 is refused (DataLoss), never returned.
import { Code, ConnectError } from "@connectrpc/connect";
import type { VersionFile } from "@modelreg/proto";
import { progressReporter } from "../transfers/progress.js";
import { rangeHeader, resolveUrl } from "../transfers/http-common.js";
import { canceled, DEFAULT_RETRY, withResume } from "../transfers/retry.js";
import type { BrowserTransferContext, BrowserTransferOptions } from "./context.js";
import { sha256Of } from "./digest.js";
import { fetchBytes, fetchFailure, throwFetchError } from "./fetch-bytes.js";

export interface ByteRange {
  /** First byte (default 0). */
  offset?: number | undefined;
  /** Most bytes (default: to the end). */
  length?: number | undefined;
}

export interface DownloadedBlob {
  /** The file's path in the version. */
  path: string;
  sizeBytes: number;
  /** Checked: the content hashes to it. */
  sha256: string;
  /** The file's media type (the Blob's type). */
  mediaType: string;
  blob: Blob;
}

/** One file of the version, with a fresh signed URL. */
async function statFile(ctx: BrowserTransferContext, version: string, path: string, signal?: AbortSignal): Promise<VersionFile> {
  const res = await ctx.files.listVersionFiles({ version: { case: "name", value: version }, path }, signal ? { signal } : {});
  const file = res.files[0];
  if (!file) throw new ConnectError(`${version} has no file ${path}`, Code.NotFound);
  return file;
}

/**
 * Bytes of one file (or the range `offset`, `length` of it). A whole file
 * is checked against its sha256 (DataLoss when it does not match); a range
 * cannot be.
 */
export async function downloadBytes(ctx: BrowserTransferContext, version: string, path: string, options: BrowserTransferOptions & ByteRange = {}): Promise<Uint8Array> {
  return (await download(ctx, version, path, options)).bytes;
}

/** One whole file as a Blob, checked against its sha256 (DataLoss when it does not match). */
export async function downloadBlob(ctx: BrowserTransferContext, version: string, path: string, options: BrowserTransferOptions = {}): Promise<DownloadedBlob> {
  const { file, bytes } = await download(ctx, version, path, { ...options, offset: 0 });
  const mediaType = file.mediaType || "application/octet-stream";
  return { path: file.path, sizeBytes: bytes.length, sha256: file.sha256, mediaType, blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mediaType }) };
}

async function download(ctx: BrowserTransferContext, version: string, path: string, options: BrowserTransferOptions & ByteRange) {
  const name = await ctx.resolveVersion(version, options.signal);
  const file = await statFile(ctx, name, path, options.signal);
  return fetchFile(ctx, file, () => statFile(ctx, name, file.path, options.signal), options);
}

/**
 * Bytes of `file` (or a range of it) from its signed URL, a whole file
 * checked against its sha256. `relist` gives the file with a fresh URL
 * when the signed one was refused. Export archives come through here too.
 */
export async function fetchFile(ctx: BrowserTransferContext, first: VersionFile, relist: () => Promise<VersionFile>, options: BrowserTransferOptions & ByteRange) {
  const signal = options.signal;
  let file = first;
  const size = Number(file.sizeBytes);
  const start = options.offset ?? 0;
  if (start < 0 || start > size) throw new ConnectError(`offset ${start} is outside ${file.path} (${size} bytes)`, Code.OutOfRange);
  const end = options.length ? Math.min(size, start + options.length) : size;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(end - start);
  } catch (err) {
    throw new ConnectError(
      `${file.path}: ${end - start} bytes do not fit in this page's memory (${(err as Error)?.message ?? String(err)}): read it in ranges (offset, length), or move it with the Node SDK or the CLI`,
      Code.ResourceExhausted,
      undefined,
      undefined,
      err,
    );
  }
  const progress = progressReporter(end - start, options.onProgress);
  // How far the bytes are: what arrived before a broken connection is kept, and the next attempt continues there.
  const at = { pos: start, start, end };
  // Where the URL was last listed anew: once more only after progress.
  let relistedAt = -1;
  await withResume(
    async () => {
      while (at.pos < end) {
        try {
          await readInto(ctx, file, at, bytes, signal, () => progress.set(file.path, at.pos - start, file.path));
        } catch (err) {
          if (relistedAt < at.pos && err instanceof ConnectError && (err.code === Code.PermissionDenied || err.code === Code.Unauthenticated)) {
            relistedAt = at.pos;
            file = await relist();
            continue;
          }
          throw err;
        }
        if (at.pos < end) throw new ConnectError(`${file.path}: the connection ended at byte ${at.pos} of ${end}`, Code.Unavailable);
      }
    },
    { policy: { ...DEFAULT_RETRY, ...options.retry }, signal, progress: () => at.pos },
  );
  if (signal?.aborted) throw canceled(signal);
  if (start === 0 && end === size) {
    const sha256 = await sha256Of(bytes);
    if (sha256 !== file.sha256) throw new ConnectError(`${file.path}: downloaded bytes hash to ${sha256}, expected ${file.sha256}; the download was refused`, Code.DataLoss);
  }
  return { file, bytes };
}

/** GETs [at.pos, at.end) into `bytes` (which holds [at.start, at.end)), moving `at.pos` on as bytes arrive. */
async function readInto(
  ctx: BrowserTransferContext,
  file: VersionFile,
  at: { pos: number; start: number; end: number },
  bytes: Uint8Array,
  signal: AbortSignal | undefined,
  onBytes: () => void,
): Promise<void> {
  const whole = at.pos === 0 && at.end === Number(file.sizeBytes);
  const url = resolveUrl(file.downloadUrl, ctx.baseUrl);
  const res = await fetchBytes(ctx.fetch, url, { method: "GET", headers: whole ? {} : { range: rangeHeader(at.pos, at.end) } }, signal);
  if (res.status !== 200 && res.status !== 206) await throwFetchError(res);
  if (res.status === 200 && !whole) {
    await res.body?.cancel();
    throw new ConnectError(`${file.path}: the server ignored the Range header`, Code.Internal);
  }
  const reader = res.body?.getReader();
  if (!reader) return;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const take = Math.min(value.length, at.end - at.pos);
      bytes.set(take === value.length ? value : value.subarray(0, take), at.pos - at.start);
      at.pos += take;
      onBytes();
      if (at.pos >= at.end) {
        await reader.cancel();
        return;
      }
    }
  } catch (err) {
    throw fetchFailure(err, url, signal);
  }
}
