// Downloading the files of a READY version: one file, the whole manifest
// into a directory (skipping files already there with the right sha256), or
// a byte range into memory. Whole files are hashed while written to a
// partial file beside the target and renamed into place only when the
// sha256 matches. A download that fails or is killed leaves its partial
// file (with a record of the content and the bytes on disk); the next
// download of the same content continues it with a Range request, its
// sha256 over the kept bytes and then the new ones (partial-download.ts).
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { VersionFile } from "@modelreg/proto";
import { createTempFile, openPartialFile, type TempFile } from "./atomic-file.js";
import { progressReporter, retryPolicy, type ProgressReporter, type TransferContext, type TransferOptions } from "./context.js";
import { hashFile } from "./hash.js";
import { localPathIn } from "./local-files.js";
import { mapLimit } from "./map-limit.js";
import { hashPrefix, partialRecorder, type PartialRecorder, removePartial, resumableBytes } from "./partial-download.js";
import { readRange } from "./read-range.js";
import { canceled } from "./retry.js";

export interface DownloadOptions extends Omit<TransferOptions, "chunkBytes"> {
  /** Files downloaded at once by downloadToDirectory (default 4). */
  concurrency?: number | undefined;
  /**
   * Keep what was downloaded of a file when the download fails or is
   * stopped (`<target>.modelreg-partial` and a `.json` record beside it), and
   * continue from there the next time the same content is downloaded to the
   * same place (default true). false: a temp file, removed on failure.
   */
  resume?: boolean | undefined;
}

export interface DownloadedFile {
  /** The file's path in the version. */
  path: string;
  /** Where it was written. */
  localPath: string;
  sizeBytes: number;
  sha256: string;
  /** False when a local copy with the right sha256 was already there. */
  downloaded: boolean;
}

/** One file of the version, with a fresh signed URL. */
export async function statFile(ctx: TransferContext, version: string, path: string, signal?: AbortSignal): Promise<VersionFile> {
  const res = await ctx.files.listVersionFiles({ version: { case: "name", value: version }, path }, signal ? { signal } : {});
  const file = res.files[0];
  if (!file) throw new ConnectError(`${version} has no file ${path}`, Code.NotFound);
  return file;
}

/** Every file of the version, all pages. */
export async function listFiles(ctx: TransferContext, version: string, signal?: AbortSignal): Promise<VersionFile[]> {
  const files: VersionFile[] = [];
  let pageToken = "";
  do {
    const res = await ctx.files.listVersionFiles({ version: { case: "name", value: version }, pageToken, pageSize: 10_000 }, signal ? { signal } : {});
    files.push(...res.files);
    pageToken = res.nextPageToken;
  } while (pageToken);
  return files;
}

/** Where downloadToFile writes: the target, inside it when it is a directory, or the file's name in the working directory. */
export async function targetPath(path: string, target: string | undefined): Promise<string> {
  const name = basename(path);
  if (!target) return resolve(name);
  const info = await stat(target).catch(() => undefined);
  return info?.isDirectory() ? join(target, name) : resolve(target);
}

/** Downloads one file of the version to `target`; resolves with what was written. */
export async function downloadToFile(ctx: TransferContext, version: string, path: string, target?: string, options: DownloadOptions = {}): Promise<DownloadedFile> {
  const name = await ctx.resolveVersion(version, options.signal);
  const file = await statFile(ctx, name, path, options.signal);
  const localPath = await targetPath(file.path, target);
  const kept = options.resume === false ? 0 : await resumableBytes(localPath, file);
  const progress = progressReporter(Number(file.sizeBytes) - kept, options.onProgress);
  return writeFile(ctx, name, file, localPath, progress, options);
}

/** Downloads every file of the version under `dir` (created if missing). */
export async function downloadToDirectory(ctx: TransferContext, version: string, dir: string, options: DownloadOptions = {}): Promise<DownloadedFile[]> {
  const name = await ctx.resolveVersion(version, options.signal);
  const files = await listFiles(ctx, name, options.signal);
  const plan = await mapLimit(files, options.concurrency ?? 4, async (file) => {
    const localPath = localPathIn(dir, file.path);
    const present = await hasContent(localPath, file);
    // Bytes a partial download left: not moved again.
    const kept = present || options.resume === false ? 0 : await resumableBytes(localPath, file);
    return { file, localPath, present, kept };
  });
  const bytesTotal = plan.reduce((n, p) => n + (p.present ? 0 : Number(p.file.sizeBytes) - p.kept), 0);
  const progress = progressReporter(bytesTotal, options.onProgress);
  options.onProgress?.({ bytesDone: 0, bytesTotal });
  return mapLimit(plan, options.concurrency ?? 4, async ({ file, localPath, present }) =>
    present
      ? { path: file.path, localPath, sizeBytes: Number(file.sizeBytes), sha256: file.sha256, downloaded: false }
      : writeFile(ctx, name, file, localPath, progress, options),
  );
}

/** Whether `localPath` is a file with the content of `file`. */
async function hasContent(localPath: string, file: VersionFile): Promise<boolean> {
  const info = await stat(localPath).catch(() => undefined);
  if (!info?.isFile() || info.size !== Number(file.sizeBytes)) return false;
  return (await hashFile(localPath)).sha256 === file.sha256;
}

/**
 * Downloads `file` to `localPath`: a partial file beside it (continued
 * when an earlier run left one of the same content), sha256 checked as the
 * bytes arrive, renamed into place only when whole. `relist` gives a fresh
 * `file` (its URL) when the signed one was refused; by default it is read
 * again from the version. Export archives come through here too. The
 * progress reported is of the bytes moved (kept bytes are not counted).
 */
export async function writeFile(
  ctx: TransferContext,
  version: string,
  file: VersionFile,
  localPath: string,
  progress: ProgressReporter,
  options: DownloadOptions,
  relist: () => Promise<VersionFile> = () => statFile(ctx, version, file.path, options.signal),
): Promise<DownloadedFile> {
  const size = Number(file.sizeBytes);
  const { tmp, kept, recorder } = await openTarget(version, file, localPath, options.resume !== false);
  const hash = createHash("sha256");
  const report = throttled((bytes) => progress.set(file.path, bytes, file.path));
  let verdict: "committed" | "corrupt" | undefined;
  try {
    // The kept bytes count in the sha256 like the new ones.
    await hashPrefix(tmp.path, kept, hash, options.signal);
    await readRange(
      ctx,
      version,
      file,
      kept,
      size,
      (chunk) => {
        hash.update(chunk);
        const wait = tmp.write(chunk);
        report(tmp.written - kept, tmp.written === size);
        return wait;
      },
      { transport: options.transport ?? "http", policy: retryPolicy(options), signal: options.signal, relist },
    );
    report(tmp.written - kept, true);
    // An abort during the last report still publishes nothing.
    if (options.signal?.aborted) throw canceled(options.signal);
    const sha256 = hash.digest("hex");
    if (sha256 !== file.sha256) {
      verdict = "corrupt";
      const from = kept > 0 ? `; the partial download (${kept} bytes kept from an earlier run, ${tmp.path}) was deleted, so the next try starts over` : "; nothing was written";
      throw new ConnectError(`${file.path}: downloaded bytes hash to ${sha256}, expected ${file.sha256}${from}`, Code.DataLoss);
    }
    await tmp.commit();
    verdict = "committed";
    return { path: file.path, localPath, sizeBytes: size, sha256, downloaded: true };
  } finally {
    await closeTarget(localPath, tmp, recorder, verdict);
  }
}

interface OpenTarget {
  tmp: TempFile & { keep?(): Promise<number> };
  /** Bytes of an earlier run's partial file kept (0: from the start). */
  kept: number;
  recorder: PartialRecorder | undefined;
}

/** The file a download writes: the partial file of `localPath` (continued when it holds a beginning of `file`), or with `resume` off a temp file. */
async function openTarget(version: string, file: VersionFile, localPath: string, resume: boolean): Promise<OpenTarget> {
  if (!resume) return { tmp: await createTempFile(localPath), kept: 0, recorder: undefined };
  const kept = await resumableBytes(localPath, file);
  if (kept === 0) await removePartial(localPath);
  const recorder = partialRecorder(localPath, { sha256: file.sha256, sizeBytes: Number(file.sizeBytes), version, path: file.path });
  const tmp = await openPartialFile(localPath, kept, recorder.record);
  // Recorded from the first byte: a partial file of unknown content is never continued.
  recorder.record(kept);
  await recorder.settled();
  return { tmp, kept, recorder };
}

/**
 * After a download: nothing left when it was committed; the partial file
 * and its record removed when its content proved wrong; otherwise (failed,
 * stopped) the partial file kept, all of it on disk and recorded, for the
 * next run. Temp files (resume off) are always removed.
 */
async function closeTarget(localPath: string, tmp: OpenTarget["tmp"], recorder: PartialRecorder | undefined, verdict: "committed" | "corrupt" | undefined): Promise<void> {
  if (!recorder || !tmp.keep) return tmp.discard();
  if (verdict === undefined) {
    const durable = await tmp.keep().catch(() => undefined);
    if (durable !== undefined) {
      recorder.record(durable);
      return recorder.settled();
    }
  }
  await recorder.settled();
  await tmp.discard();
  await removePartial(localPath);
}

export interface ByteRange {
  /** First byte (default 0). */
  offset?: number | undefined;
  /** Most bytes (default: to the end). */
  length?: number | undefined;
}

/** Bytes of one file of the version, in memory: meant for small files or ranges. */
export async function downloadBytes(ctx: TransferContext, version: string, path: string, options: DownloadOptions & ByteRange = {}): Promise<Uint8Array> {
  const name = await ctx.resolveVersion(version, options.signal);
  const file = await statFile(ctx, name, path, options.signal);
  const size = Number(file.sizeBytes);
  const start = options.offset ?? 0;
  if (start < 0 || start > size) throw new ConnectError(`offset ${start} is outside ${file.path} (${size} bytes)`, Code.OutOfRange);
  const end = options.length ? Math.min(size, start + options.length) : size;
  const out = Buffer.allocUnsafe(end - start);
  let at = 0;
  const progress = progressReporter(end - start, options.onProgress);
  const report = throttled((bytes) => progress.set(file.path, bytes, file.path));
  await readRange(
    ctx,
    name,
    file,
    start,
    end,
    (chunk) => {
      out.set(chunk, at);
      at += chunk.length;
      report(at, at === end - start);
    },
    { transport: options.transport ?? "http", policy: retryPolicy(options), signal: options.signal, relist: () => statFile(ctx, name, file.path, options.signal) },
  );
  report(at, true);
  if (options.signal?.aborted) throw canceled(options.signal);
  return new Uint8Array(out.buffer, out.byteOffset, at);
}

/** Bytes, or milliseconds, between two progress reports of one file. */
const REPORT_BYTES = 1 << 20;
const REPORT_MS = 100;

/**
 * Progress of one file: the first bytes, then every REPORT_BYTES or
 * REPORT_MS (not per chunk), always when `final`, never the same count twice.
 */
function throttled(set: (bytes: number) => void): (bytes: number, final: boolean) => void {
  let reported = 0;
  let at = performance.now();
  return (bytes, final) => {
    if (bytes === reported) return;
    if (!final && reported > 0 && bytes - reported < REPORT_BYTES) {
      const now = performance.now();
      if (now - at < REPORT_MS) return;
      at = now;
    } else at = performance.now();
    reported = bytes;
    set(bytes);
  };
}
