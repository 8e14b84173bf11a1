// Sending a large file while it is hashed, instead of hashing it whole
// first (about 1 s per GiB before the first byte could go out).
//
// Dedup stays intact: the client first hashes only the file's head (its
// first MiB) and asks CreateUploadSession whether the workspace may already
// hold content of this size and head. If it may (identical weights from a
// new training run, a file pushed before from another machine), nothing is
// sent: the caller hashes the file and stages it by sha256 as before. If
// not, the content is new to the workspace, and its bytes go out on a
// session opened without a digest while a worker thread hashes the file.
// When the last byte arrives, the server publishes what it received under
// the sha256 it computed and says which; the client compares it with its
// own, so every byte is still checked end to end. The version's files are
// then staged by sha256 as always, and the content is already there.
import { open } from "node:fs/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CreateUploadSessionResponse, UploadSession } from "@modelreg/proto";
import type { TransferContext } from "./context.js";
import { identityOf, rememberDigests } from "./digest-cache.js";
import { type FileDigest, sha256Hex } from "./hash.js";
import { hashFileOnThread } from "./hash-thread.js";
import { sendSession, type SendOptions } from "./upload-session.js";

/** Files smaller than this are hashed first: their hash costs less than a round trip. */
export const SEND_WHILE_HASHING_MIN_BYTES = 16 << 20;
/** The head the server compares: the first MiB (or the whole of a smaller content). */
export const HEAD_BYTES = 1 << 20;

/** sha256 (hex) of the first min(size, HEAD_BYTES) bytes of the file. */
export async function headDigest(localPath: string, size: number): Promise<string> {
  const length = Math.min(size, HEAD_BYTES);
  const buffer = Buffer.allocUnsafe(length);
  const handle = await open(localPath, "r");
  try {
    let at = 0;
    while (at < length) {
      const { bytesRead } = await handle.read(buffer, at, length - at, at);
      if (bytesRead === 0) throw new ConnectError(`${localPath} became shorter while it was read (${at} of ${size} bytes)`, Code.FailedPrecondition);
      at += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return sha256Hex(buffer);
}

/** A file to send while hashing it: its session, opened without a digest, and its identity before anything was read. */
export interface UnboundUpload {
  localPath: string;
  size: number;
  session: UploadSession;
  before: string;
}

/**
 * Opens a session for the file at `localPath` (`size` bytes) in version
 * `name` when the workspace cannot hold its content yet (or takes up the
 * one a stopped run opened for the same content); undefined when it may
 * hold it: then nothing is to be sent before it is hashed and staged.
 */
export async function openUnbound(
  ctx: TransferContext,
  name: string,
  file: { localPath: string; size: number },
  options: { overwrite: boolean; signal?: AbortSignal | undefined },
): Promise<UnboundUpload | undefined> {
  const before = await identityOf(file.localPath);
  const head = await headDigest(file.localPath, file.size);
  let opened: CreateUploadSessionResponse;
  try {
    opened = await ctx.files.createUploadSession(
      { parent: name, sizeBytes: BigInt(file.size), headSha256: head, overwrite: options.overwrite },
      options.signal ? { signal: options.signal } : {},
    );
  } catch (err) {
    // A server from before CreateUploadSession: every file is hashed first there.
    if (err instanceof ConnectError && err.code === Code.Unimplemented) return undefined;
    throw err;
  }
  if (opened.mayBeHeld || !opened.upload) return undefined;
  return { ...file, session: opened.upload, before };
}

/**
 * Sends an unbound upload's bytes while a worker thread hashes the file;
 * resolves with the file's digest once the server has them all (staging by
 * that digest then finds the content held).
 */
export async function sendWhileHashing(ctx: TransferContext, upload: UnboundUpload, options: SendOptions): Promise<FileDigest> {
  const resumed = Number(upload.session.committedOffset) > 0;
  // Both at once; if either fails, the other is stopped.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const hashing = hashFileOnThread(upload.localPath, signal);
  const sending = sendSession(ctx, { session: upload.session, localPath: upload.localPath }, { ...options, signal });
  let digest: FileDigest;
  let received: UploadSession;
  try {
    [digest, received] = await Promise.all([hashing, sending]);
  } catch (err) {
    stop.abort(err);
    await Promise.allSettled([hashing, sending]);
    throw err;
  }
  if (digest.sizeBytes !== upload.size || (await identityOf(upload.localPath)) !== upload.before)
    throw new ConnectError(`${upload.localPath} changed while it was uploaded; upload it again once it no longer changes`, Code.FailedPrecondition);
  if (received.sha256 !== digest.sha256 && !resumed)
    throw new ConnectError(
      `${upload.localPath}: the server received content with sha256 ${received.sha256 || "(none)"}, but the file's is ${digest.sha256}: bytes were damaged on the way; upload it again`,
      Code.DataLoss,
    );
  // A session taken up again holds bytes an earlier run sent: if that run's
  // file was another of the same size and head, what the server received is
  // not this file, and staging by the file's digest asks for it in full.
  await rememberDigests([{ path: upload.localPath, before: upload.before, digest }]);
  return digest;
}
