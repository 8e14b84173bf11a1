// Uploading Blobs (Files, or content made in the page) into a version:
// hash each with Web Crypto, stage the manifest, PUT what the workspace
// lacks to its session's signed URL in chunks (Content-Range), resuming
// from the committed offset after a dropped connection, then commit, which
// makes the version READY.
import { Code, ConnectError } from "@connectrpc/connect";
import { UploadState, type UploadSession, type Version } from "@modelreg/proto";
import { progressReporter } from "../transfers/progress.js";
import { contentRange, resolveUrl } from "../transfers/http-common.js";
import { mapLimit } from "../transfers/map-limit.js";
import { DEFAULT_RETRY } from "../transfers/retry.js";
import { sendChunks } from "../transfers/send-chunks.js";
import { sessionFromPutAnswer } from "../transfers/session-answer.js";
import { BROWSER_CHUNK_BYTES, type BrowserTransferContext, type BrowserTransferOptions } from "./context.js";
import { type BlobDigest, digestBlob } from "./digest.js";
import { fetchBytes, fetchFailure, throwFetchError } from "./fetch-bytes.js";

/** One file of the version: its path there and its content. */
export interface BlobFile {
  path: string;
  blob: Blob;
  /** Media type (default: the server's pick by extension). */
  mediaType?: string | undefined;
}

export interface BlobUploadOptions extends BrowserTransferOptions {
  /** Replace the files of a READY version (otherwise FailedPrecondition). */
  overwrite?: boolean | undefined;
  /** Largest piece sent per PUT (default 16 MiB; never above the server's max_chunk_bytes). */
  chunkBytes?: number | undefined;
  /** Sessions sent at once (default 2). Files are hashed one at a time, so one is in memory at once. */
  concurrency?: number | undefined;
}

export interface BlobUploadFileOptions extends BlobUploadOptions {
  /** The file's path in the version (default: the File's name). */
  path?: string | undefined;
  mediaType?: string | undefined;
}

/** Uploads one Blob as the version's only file; `path` defaults to a File's name. */
export async function uploadBlob(ctx: BrowserTransferContext, version: string, blob: Blob, options: BlobUploadFileOptions = {}): Promise<Version> {
  const { path: given, mediaType, ...rest } = options;
  const path = given ?? (blob as { name?: unknown }).name;
  if (typeof path !== "string" || path === "") throw new ConnectError("uploadBlob: give the file's path in the version as options.path (a Blob has no name)", Code.InvalidArgument);
  return uploadBlobs(ctx, version, [{ path, blob, ...(mediaType ? { mediaType } : {}) }], rest);
}

/** Stages `files` as the version's manifest, uploads what the workspace lacks, commits; resolves with the READY version. */
export async function uploadBlobs(ctx: BrowserTransferContext, version: string, files: BlobFile[], options: BlobUploadOptions = {}): Promise<Version> {
  const signal = options.signal;
  const call = signal ? { signal } : {};
  const name = await ctx.resolveVersion(version, signal);
  const digests: BlobDigest[] = [];
  for (const f of files) {
    signal?.throwIfAborted();
    digests.push(await digestBlob(f.blob));
  }
  const staged = await ctx.files.stageVersionFiles(
    {
      name,
      overwrite: options.overwrite ?? false,
      files: files.map((f, i) => ({ path: f.path, sizeBytes: BigInt(digests[i]!.sizeBytes), sha256: digests[i]!.sha256, mediaType: f.mediaType ?? "" })),
    },
    call,
  );
  const jobs = new Map<string, { session: UploadSession; blob: Blob; path: string }>();
  staged.files.forEach((s, i) => {
    if (s.present || !s.upload || s.upload.state === UploadState.COMPLETE || jobs.has(s.upload.name)) return;
    jobs.set(s.upload.name, { session: s.upload, blob: files[i]!.blob, path: s.file?.path || files[i]!.path });
  });
  const progress = progressReporter(Number(staged.bytesToUpload), options.onProgress);
  options.onProgress?.({ bytesDone: 0, bytesTotal: progress.bytesTotal });
  await mapLimit([...jobs.values()], options.concurrency ?? 2, async (job) => {
    const base = Number(job.session.committedOffset);
    await sendBlob(ctx, job.session, job.blob, options, (bytes) => progress.set(job.session.name, Math.max(0, bytes - base), job.path));
  });
  return (await ctx.files.commitVersionFiles({ name }, call)).version!;
}

/** Sends what the session lacks from `blob`; resolves with the COMPLETE session. */
function sendBlob(ctx: BrowserTransferContext, first: UploadSession, blob: Blob, options: BlobUploadOptions, onBytes: (bytes: number) => void): Promise<UploadSession> {
  return sendChunks(first, {
    files: ctx.files,
    chunkBytes: options.chunkBytes ?? BROWSER_CHUNK_BYTES,
    policy: { ...DEFAULT_RETRY, ...options.retry },
    signal: options.signal,
    onBytes,
    send: (session, start, end) => put(ctx, session, blob, start, end, options.signal),
  });
}

/** PUT of the bytes [start, end) to the session's signed URL; the session as the server then has it. */
async function put(ctx: BrowserTransferContext, session: UploadSession, blob: Blob, start: number, end: number, signal: AbortSignal | undefined): Promise<UploadSession> {
  const size = Number(session.sizeBytes);
  const url = resolveUrl(session.uploadUrl, ctx.baseUrl);
  const res = await fetchBytes(
    ctx.fetch,
    url,
    {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", ...(size > 0 ? { "content-range": contentRange(start, end, size) } : {}) },
      body: blob.slice(start, end),
    },
    signal,
  );
  if (res.status !== 200) await throwFetchError(res);
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw fetchFailure(err, url, signal);
  }
  return sessionFromPutAnswer(session, text);
}
