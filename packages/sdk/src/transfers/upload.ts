// Uploading files into a version: hash each local file, stage the manifest,
// send only the content the workspace lacks (sessions shared by identical
// files are sent once), then commit, which makes the version READY.
import { basename } from "node:path";
import { stat } from "node:fs/promises";
import { type StageVersionFilesResponse, UploadState, type UploadSession, type Version } from "@modelreg/proto";
import { DEFAULT_CHUNK_BYTES, type ProgressReporter, progressReporter, retryPolicy, type TransferContext, type TransferOptions, type TransferProgress } from "./context.js";
import { cachedDigest } from "./digest-cache.js";
import { digestFile, type FileDigest } from "./hash.js";
import { listLocalFiles, type LocalFile } from "./local-files.js";
import { mapLimit } from "./map-limit.js";
import { openUnbound, SEND_WHILE_HASHING_MIN_BYTES, sendWhileHashing, type UnboundUpload } from "./send-while-hashing.js";
import { type SendOptions, sendSession } from "./upload-session.js";

export interface UploadOptions extends TransferOptions {
  /** Replace the files of a READY version (otherwise FailedPrecondition). */
  overwrite?: boolean | undefined;
  /** Called during the local sha256 pass over the files hashed before they are staged (bytes read); a large file new to the workspace is hashed while it is sent instead, and counts in onProgress. */
  onHashProgress?: ((progress: TransferProgress) => void) | undefined;
  /** false: hash every file before sending anything (default true: a large file the workspace cannot hold yet is sent while it is hashed). */
  hashWhileSending?: boolean | undefined;
  /** Files hashed and sessions sent at once (default 4). */
  concurrency?: number | undefined;
}

export interface UploadFileOptions extends UploadOptions {
  /** The file's path in the version (default: the local file's name). */
  path?: string | undefined;
  /** Media type (default: the server's pick by extension). */
  mediaType?: string | undefined;
}

/** Uploads one local file as the version's only file; resolves with the READY version. */
export async function uploadFile(ctx: TransferContext, version: string, localPath: string, options: UploadFileOptions = {}): Promise<Version> {
  const info = await stat(localPath);
  if (!info.isFile()) throw new Error(`${localPath} is not a regular file`);
  const file: LocalFile & { mediaType?: string } = { path: options.path ?? basename(localPath), localPath };
  if (options.mediaType) file.mediaType = options.mediaType;
  return uploadFiles(ctx, version, [file], options);
}

/** Uploads every regular file under `dir` (symlinks refused) as the version's files. */
export async function uploadDirectory(ctx: TransferContext, version: string, dir: string, options: UploadOptions = {}): Promise<Version> {
  return uploadFiles(ctx, version, await listLocalFiles(dir), options);
}

/**
 * Stages `files` as the version's manifest, uploads what is missing, commits.
 * A large file whose content the workspace cannot hold yet is sent while it
 * is hashed (send-while-hashing.ts); every other file is hashed first, and
 * content the workspace holds is never sent.
 */
export async function uploadFiles(ctx: TransferContext, version: string, files: (LocalFile & { mediaType?: string })[], options: UploadOptions = {}): Promise<Version> {
  const name = await ctx.resolveVersion(version, options.signal);
  const signal = options.signal;
  const call = signal ? { signal } : {};
  const concurrency = options.concurrency ?? 4;
  const sizes = await mapLimit(files, concurrency, async (f) => (await stat(f.localPath)).size);
  // Which files go out while hashed: large, not remembered (a remembered digest is kept), and new to the workspace.
  const plans = await mapLimit(files, concurrency, async (f, i): Promise<{ cached?: FileDigest; unbound?: UnboundUpload }> => {
    const size = sizes[i]!;
    if (options.hashWhileSending === false || size < SEND_WHILE_HASHING_MIN_BYTES) return {};
    const cached = await cachedDigest(f.localPath);
    if (cached) return { cached };
    const unbound = await openUnbound(ctx, name, { localPath: f.localPath, size }, { overwrite: options.overwrite ?? false, signal });
    return unbound ? { unbound } : {};
  });
  const unbound = plans.map((p) => p.unbound);
  const hashed = options.onHashProgress ? hashReporter(sizes.filter((_, i) => !unbound[i]), options.onHashProgress) : undefined;
  const sent = progressReporter(0, options.onProgress);
  // Reported from the first byte sent while hashing; otherwise first after staging, as before.
  const early = unbound.reduce((n, u) => n + (u ? u.size - Number(u.session.committedOffset) : 0), 0);
  if (early > 0) sent.addTotal(early);
  const send = sendOptions(options);
  const digests = await mapLimit(files, concurrency, async (f, i) => {
    const u = unbound[i];
    if (u) {
      const base = Number(u.session.committedOffset);
      return sendWhileHashing(ctx, u, { ...send, onBytes: (bytes) => sent.set(u.session.name, Math.max(0, bytes - base), f.path) });
    }
    const cached = plans[i]!.cached;
    if (cached) {
      hashed?.set(f.localPath, cached.sizeBytes, f.path);
      return cached;
    }
    return digestFile(f.localPath, signal, hashed ? (n) => hashed.set(f.localPath, n, f.path) : undefined);
  });
  const staged = await ctx.files.stageVersionFiles(
    {
      name,
      overwrite: options.overwrite ?? false,
      files: files.map((f, i) => ({ path: f.path, sizeBytes: BigInt(digests[i]!.sizeBytes), sha256: digests[i]!.sha256, mediaType: f.mediaType ?? "" })),
    },
    call,
  );
  return sendStagedAndCommit(ctx, name, staged, files, options, sent);
}

/** Where the content of the i-th staged file is: a local file, from `offset` (default 0). */
export interface StagedSource {
  localPath: string;
  offset?: number;
  path: string;
}

/**
 * After StageVersionFiles: sends the content the workspace lacks, one job
 * per distinct session (identical files are sent once) from `sources[i]`
 * for the i-th staged file, then commits, which makes the version READY.
 */
export async function sendStagedAndCommit(
  ctx: TransferContext,
  name: string,
  staged: StageVersionFilesResponse,
  sources: StagedSource[],
  options: UploadOptions,
  /** Progress of bytes this upload sent already (files sent while hashed), which the staged bytes add to. */
  sent?: ProgressReporter,
): Promise<Version> {
  const signal = options.signal;
  const call = signal ? { signal } : {};
  const jobs = new Map<string, { session: UploadSession; localPath: string; offset: number; path: string }>();
  staged.files.forEach((s, i) => {
    if (s.present || !s.upload || s.upload.state === UploadState.COMPLETE) return;
    const src = sources[i]!;
    if (!jobs.has(s.upload.name)) jobs.set(s.upload.name, { session: s.upload, localPath: src.localPath, offset: src.offset ?? 0, path: s.file?.path || src.path });
  });
  let progress = sent;
  if (progress) progress.addTotal(Number(staged.bytesToUpload));
  else {
    progress = progressReporter(Number(staged.bytesToUpload), options.onProgress);
    options.onProgress?.({ bytesDone: 0, bytesTotal: progress.bytesTotal });
  }
  const send = sendOptions(options);
  await mapLimit([...jobs.values()], options.concurrency ?? 4, async (job) => {
    const base = Number(job.session.committedOffset);
    await sendSession(ctx, job, { ...send, onBytes: (bytes) => progress!.set(job.session.name, Math.max(0, bytes - base), job.path) });
  });
  return (await ctx.files.commitVersionFiles({ name }, call)).version!;
}

/** How sessions are sent; onBytes is set per session. */
function sendOptions(options: UploadOptions): Omit<SendOptions, "onBytes"> {
  return {
    transport: options.transport ?? "http",
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    policy: retryPolicy(options),
    signal: options.signal,
  };
}

/** Progress of the sha256 pass over files of these sizes, 0 reported at once. */
function hashReporter(sizes: number[], onHashProgress: (p: TransferProgress) => void) {
  const reporter = progressReporter(
    sizes.reduce((a, b) => a + b, 0),
    onHashProgress,
  );
  onHashProgress({ bytesDone: 0, bytesTotal: reporter.bytesTotal });
  return reporter;
}
