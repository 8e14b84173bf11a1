// Content that belongs to no version: a task's input files, checkpoints and
// outputs. Local files are hashed into a manifest, the server answers with
// StagedFile entries (present, or an upload session with a signed URL), and
// the missing content is sent with the same session code as versions use.
// Where that code asks where a session stands, the question goes to the
// session's signed URL (`Content-Range: bytes */size`) instead of
// FileService.GetUploadSession, which a worker key may not call. Files the
// server hands out with signed download URLs are fetched, sha256-checked,
// into a directory.
import { stat } from "node:fs/promises";
import { fromJson } from "@bufbuild/protobuf";
import { type StagedFile, UploadSessionSchema, UploadState, type UploadSession, type VersionFile } from "@modelreg/proto";
import { DEFAULT_CHUNK_BYTES, progressReporter, retryPolicy, type TransferContext, type TransferOptions } from "./context.js";
import { type DownloadedFile, writeFile } from "./download.js";
import { digestFile, hashFile } from "./hash.js";
import { httpRequest, readText, resolveUrl, throwHttpError } from "./http.js";
import { listLocalFiles, localPathIn, type LocalFile } from "./local-files.js";
import { mapLimit } from "./map-limit.js";
import { sendSession } from "./upload-session.js";

/** A local file with its manifest entry. */
export interface HashedFile extends LocalFile {
  sizeBytes: bigint;
  sha256: string;
}

export interface StagedTransferOptions extends Omit<TransferOptions, "transport"> {
  /** Files hashed and sessions sent at once (default 4). */
  concurrency?: number;
}

/** Every regular file under `dir`, hashed (remembered digests reused), sorted by path. */
export async function hashDirectory(dir: string, options: { signal?: AbortSignal; concurrency?: number } = {}): Promise<HashedFile[]> {
  const files = await listLocalFiles(dir);
  if (files.length === 0) throw new Error(`${dir} holds no files`);
  return mapLimit(files, options.concurrency ?? 4, async (f) => {
    const d = await digestFile(f.localPath, options.signal);
    return { ...f, sizeBytes: BigInt(d.sizeBytes), sha256: d.sha256 };
  });
}

/** The manifest entries of hashed files, as the staging RPCs take them. */
export function manifestOf(files: HashedFile[]): { path: string; sizeBytes: bigint; sha256: string }[] {
  return files.map((f) => ({ path: f.path, sizeBytes: f.sizeBytes, sha256: f.sha256 }));
}

/**
 * Sends what `staged` (one entry per file of `sources`, in order) says the
 * workspace lacks: each distinct session once, over its signed URL,
 * resumed after dropped connections.
 */
export async function sendStagedFiles(ctx: TransferContext, staged: StagedFile[], sources: LocalFile[], options: StagedTransferOptions = {}): Promise<void> {
  const jobs = new Map<string, { session: UploadSession; localPath: string; path: string }>();
  staged.forEach((s, i) => {
    if (s.present || !s.upload || s.upload.state === UploadState.COMPLETE || jobs.has(s.upload.name)) return;
    const src = sources[i];
    if (!src) throw new Error(`the server staged ${staged.length} files for ${sources.length} sent`);
    jobs.set(s.upload.name, { session: s.upload, localPath: src.localPath, path: src.path });
  });
  if (jobs.size === 0) return;
  const bytesTotal = [...jobs.values()].reduce((n, j) => n + Number(j.session.sizeBytes - j.session.committedOffset), 0);
  const progress = progressReporter(bytesTotal, options.onProgress);
  options.onProgress?.({ bytesDone: 0, bytesTotal });
  const sessionCtx = withSignedSessionQueries(ctx, [...jobs.values()].map((j) => j.session), options.signal);
  const policy = retryPolicy(options);
  await mapLimit([...jobs.values()], options.concurrency ?? 4, async (job) => {
    const base = Number(job.session.committedOffset);
    await sendSession(sessionCtx, job, {
      transport: "http",
      chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      policy,
      signal: options.signal,
      onBytes: (bytes) => progress.set(job.session.name, Math.max(0, bytes - base), job.path),
    });
  });
}

/** `ctx` whose GetUploadSession asks the session's signed URL where it stands. */
function withSignedSessionQueries(ctx: TransferContext, sessions: UploadSession[], signal: AbortSignal | undefined): TransferContext {
  const byName = new Map(sessions.map((s) => [s.name, s]));
  const getUploadSession = async (req: { name: string }) => {
    const known = byName.get(req.name);
    if (!known) return ctx.files.getUploadSession(req, signal ? { signal } : {});
    const upload = await querySession(ctx, known, signal);
    byName.set(req.name, { ...known, ...(upload.uploadUrl ? { uploadUrl: upload.uploadUrl } : {}) });
    return { upload };
  };
  return { ...ctx, files: { ...ctx.files, getUploadSession } as unknown as TransferContext["files"] };
}

/** PUT with `Content-Range: bytes *\/size`: the session as it stands, nothing sent. */
async function querySession(ctx: TransferContext, session: UploadSession, signal: AbortSignal | undefined): Promise<UploadSession> {
  const res = await httpRequest({
    url: resolveUrl(session.uploadUrl, ctx.baseUrl),
    method: "PUT",
    headers: { "content-length": "0", "content-range": `bytes */${session.sizeBytes}` },
    agents: ctx.agents,
    ...(signal ? { signal } : {}),
  });
  if (res.statusCode !== 200) await throwHttpError(res);
  const parsed = fromJson(UploadSessionSchema, JSON.parse(await readText(res)), { ignoreUnknownFields: true });
  return { ...session, ...parsed, uploadUrl: parsed.uploadUrl || session.uploadUrl, maxChunkBytes: parsed.maxChunkBytes || session.maxChunkBytes };
}

export interface SignedDownloadOptions extends Omit<TransferOptions, "transport" | "chunkBytes"> {
  /** Files downloaded at once (default 4). */
  concurrency?: number;
}

/**
 * Downloads files that carry signed URLs (a checkpoint's, a task's base or
 * input files) under `dir`, each checked against its sha256 and renamed
 * into place only when whole; files already there with the right content
 * are kept.
 */
export async function downloadSignedFiles(ctx: TransferContext, files: VersionFile[], dir: string, options: SignedDownloadOptions = {}): Promise<DownloadedFile[]> {
  const plan = await mapLimit(files, options.concurrency ?? 4, async (file) => {
    const localPath = localPathIn(dir, file.path);
    return { file, localPath, present: await holds(localPath, file) };
  });
  const bytesTotal = plan.reduce((n, p) => n + (p.present ? 0 : Number(p.file.sizeBytes)), 0);
  const progress = progressReporter(bytesTotal, options.onProgress);
  options.onProgress?.({ bytesDone: 0, bytesTotal });
  const download = { ...options, transport: "http" as const };
  return mapLimit(plan, options.concurrency ?? 4, async ({ file, localPath, present }) => {
    if (present) return { path: file.path, localPath, sizeBytes: Number(file.sizeBytes), sha256: file.sha256, downloaded: false };
    // A signed URL is all there is: when it stops working, nothing gives a new one.
    return writeFile(ctx, "", file, localPath, progress, download, async () => file);
  });
}

async function holds(localPath: string, file: VersionFile): Promise<boolean> {
  const info = await stat(localPath).catch(() => undefined);
  if (!info?.isFile() || BigInt(info.size) !== file.sizeBytes) return false;
  return (await hashFile(localPath)).sha256 === file.sha256;
}
