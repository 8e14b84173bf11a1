// Upload sessions: resumable uploads of one blob each, created by staging a
// version's files or a task's (checkpoint, input or output files). Both
// byte paths (plain HTTP PUT and the WriteUpload RPC) end in write(): bytes
// are appended at the committed offset, made durable (and the offset
// moved) every 16 MiB of the content (append-steps.ts), so a request cut
// midway keeps its whole steps; when the last byte is in, the content is
// verified and published, and the workspace holds it. A session opened
// before its sha256 was known (unbound-sessions.ts) is published under the
// sha256 of what arrived, and shows it from then on.
import { createHash } from "node:crypto";
import type { Database, UploadSessionRow } from "@modelreg/db";
import { type BlobBody, type BlobStore, readBody } from "../ports/blob-store.js";
import { ChecksumMismatchError, StagingNotFoundError } from "../ports/blob-store-errors.js";
import type { ConcurrencyLimiter } from "../ports/limiter.js";
import { ResourceExhaustedError } from "../ports/limiter.js";
import { isForeignKeyViolation } from "../shared/db-errors.js";
import { NotFoundError } from "../shared/errors.js";
import { versionResourceName } from "../shared/resource-names.js";
import type { Scope } from "../shared/scope.js";
import { appendInSteps } from "./append-steps.js";
import { claimBlob, recordHolding, setMissingHead } from "./blobs-sql.js";
import {
  checkDeclaredSize,
  checkOffset,
  COMMIT_STEP_BYTES,
  HEAD_BYTES,
  lengthMismatchError,
  MAX_CHUNK_BYTES,
  overflowError,
  parseUploadSessionName,
  UploadRestartedError,
  uploadRoom,
} from "./rules.js";
import { findSession, markSessionComplete } from "./sql.js";
import { type SessionOwnerName, sessionView, uploadSessionName, type UploadSessionView } from "./types.js";
import { taskResourceName } from "../shared/resource-names.js";

export interface UploadSessionsDeps {
  db: Database;
  store: BlobStore;
  /** Per-key uploads in flight (at most `max`); undefined = unlimited. */
  concurrency?: { limiter: ConcurrencyLimiter; max: number };
  /** Called after content is published without an md5 (to compute it off the hot path). */
  onStored?: (sha256: string) => void;
  maxChunkBytes?: number;
  /** Bytes of a request made durable at a time (default COMMIT_STEP_BYTES, 16 MiB); see append-steps.ts. */
  commitStepBytes?: number;
}

export interface UploadSessionsDomain {
  /** The session by its resource name, with the offset its bytes have reached. */
  get(scope: Scope, name: string): Promise<UploadSessionView>;
  /**
   * Appends `body` at `offset` and, when that completes the content,
   * verifies and publishes it. A retry of a write that already completed
   * the session answers with the complete session and writes nothing.
   * With `length` (what the client declared the body to be), a body of any
   * other length is refused and none of it kept.
   */
  write(
    scope: Scope,
    target: { workspace: string; id: string },
    offset: number,
    body: BlobBody,
    opts?: { signal?: AbortSignal; totalSize?: number; length?: number },
  ): Promise<UploadSessionView>;
}

/** What the session operations share: the deps, with the chunk limit and commit step resolved. */
type UploadsContext = UploadSessionsDeps & { maxChunk: number; commitStep: number };

export function createUploadSessionsDomain(deps: UploadSessionsDeps): UploadSessionsDomain {
  const ctx: UploadsContext = { ...deps, maxChunk: deps.maxChunkBytes ?? MAX_CHUNK_BYTES, commitStep: deps.commitStepBytes ?? COMMIT_STEP_BYTES };
  return {
    get: (scope, name) => getSession(ctx, scope, name),
    write: (scope, target, offset, body, opts = {}) => writeSession(ctx, scope, target, offset, body, opts),
  };
}

async function getSession(ctx: UploadsContext, scope: Scope, name: string): Promise<UploadSessionView> {
  const target = parseUploadSessionName("name", name);
  const { row, owner } = await load(ctx, scope, target);
  return sessionView(row, owner, await offsetOf(ctx, row), ctx.maxChunk);
}

async function writeSession(
  ctx: UploadsContext,
  scope: Scope,
  target: { workspace: string; id: string },
  offset: number,
  body: BlobBody,
  opts: { signal?: AbortSignal; totalSize?: number; length?: number },
): Promise<UploadSessionView> {
  const { store, maxChunk } = ctx;
  checkOffset(offset);
  const { row, owner } = await load(ctx, scope, target);
  checkDeclaredSize(opts.totalSize, row.size);
  const name = uploadSessionName(row.workspace, row.id);
  if (row.complete) {
    for await (const _ of readBody(body, opts.signal)); // drain: the content is in already
    return sessionView(row, owner, row.size, maxChunk);
  }
  const slot = ctx.concurrency?.limiter.acquire(row.accessKeyId); // "" = every caller with AUTH=off
  if (slot && !slot.ok)
    throw ResourceExhaustedError.tooManyConcurrent(row.accessKeyId ? `access key ${row.accessKeyId}` : "this server (AUTH=off)", ctx.concurrency!.max);
  try {
    let committed = offset;
    const limited = limitBody(body, opts.signal, { size: row.size, offset, maxChunk, length: opts.length, committed: () => committed });
    const append = async (at: number, piece: AsyncIterable<Uint8Array>) => {
      try {
        return await store.append(row.id, at, piece, { signal: opts.signal });
      } catch (err) {
        // A staging lost before its first byte (a crash right after staging): make it, then append.
        if (!(err instanceof StagingNotFoundError) || at !== 0) throw err;
        await store.createStaging(row.id);
        return store.append(row.id, at, piece, { signal: opts.signal });
      }
    };
    let size: number;
    try {
      size = await appendInSteps(append, offset, limited, ctx.commitStep, {
        onCommitted: (at) => {
          committed = at;
        },
        overlap: store.overlappingAppends,
      });
    } catch (err) {
      // Another writer of this session completed it meanwhile, and its commit took the staging away: answer as for a late retry.
      const now = err instanceof StagingNotFoundError ? await findSession(ctx.db, scope, target) : undefined;
      if (!now?.s.complete) throw err;
      return sessionView(now.s, owner, row.size, maxChunk);
    }
    if (size === row.size) {
      const sha256 = await finish(ctx, row, name);
      return sessionView({ ...row, sha256, complete: true }, owner, size, maxChunk);
    }
    return sessionView(row, owner, size, maxChunk);
  } finally {
    if (slot?.ok) slot.release();
  }
}

/**
 * The body, refused (mid-stream) once it carries more than one write from
 * `offset` may or than its declared `length`, and at its end when it
 * carried less than that `length`. A refusal fails the step in progress,
 * which keeps none of its bytes; the steps before it stay (`committed()`
 * is where they end, the offset to send again from).
 */
async function* limitBody(
  body: BlobBody,
  signal: AbortSignal | undefined,
  w: { size: number; offset: number; maxChunk: number; length?: number; committed: () => number },
): AsyncGenerator<Uint8Array> {
  const room = uploadRoom(w.size, w.offset, w.maxChunk);
  let n = 0;
  for await (const chunk of readBody(body, signal)) {
    n += chunk.length;
    if (w.length !== undefined && n > w.length) throw lengthMismatchError(w.length, n, w.offset, w.committed());
    if (n > room) throw overflowError(w.size, w.offset, w.maxChunk);
    yield chunk;
  }
  if (w.length !== undefined && n !== w.length) throw lengthMismatchError(w.length, n, w.offset, w.committed());
}

/** The live session of the scope, with the resource name of its version or task, or NotFound. */
async function load(ctx: UploadsContext, scope: Scope, target: { workspace: string; id: string }): Promise<{ row: UploadSessionRow; owner: SessionOwnerName }> {
  const hit = await findSession(ctx.db, scope, target);
  if (!hit) throw sessionNotFound(target);
  const owner =
    hit.taskId !== null ? { task: taskResourceName(hit.s.workspace, hit.taskId) } : { version: versionResourceName(hit.s.workspace, hit.modelName!, hit.version!) };
  return { row: hit.s, owner };
}

const sessionNotFound = (target: { workspace: string; id: string }) =>
  new NotFoundError(
    "upload session",
    `${uploadSessionName(target.workspace, target.id)} (it expired, its version was committed, re-staged or deleted, or its task was deleted; stage the files again)`,
  );

async function offsetOf(ctx: UploadsContext, row: UploadSessionRow): Promise<number> {
  if (row.complete) return row.size;
  try {
    return await ctx.store.stagedSize(row.id);
  } catch (err) {
    if (!(err instanceof StagingNotFoundError)) throw err;
    await ctx.store.createStaging(row.id);
    return 0;
  }
}

/**
 * Publishes the complete staged content (and records the sha256 of its
 * first MiB); on a digest mismatch drops it and starts the session over.
 * An unbound session's content (CreateUploadSession) is published under the
 * sha256 the store computed; returns the content's sha256.
 */
async function finish(ctx: UploadsContext, row: UploadSessionRow, name: string): Promise<string> {
  const { db, store } = ctx;
  let put: { sha256: string; md5: string };
  try {
    // The content is claimed before it is published, so garbage collection cannot take it meanwhile.
    put = await store.commitStaging(row.id, row.sha256 ?? undefined, { expectedSize: row.size, beforePublish: (sha256) => claimBlob(db, sha256, row.size) });
  } catch (err) {
    if (!(err instanceof ChecksumMismatchError)) throw err;
    await store.abortStaging(row.id);
    await store.createStaging(row.id);
    throw new UploadRestartedError(err, name);
  }
  const { sha256, md5 } = put;
  const head = await headDigest(store, sha256, row.size);
  try {
    await db.transaction(async (tx) => {
      await recordHolding(tx, row.workspace, sha256, md5);
      await setMissingHead(tx, sha256, head);
      await markSessionComplete(tx, row.id, sha256);
    });
  } catch (err) {
    // The workspace was deleted (its versions first) while the bytes came
    // in: its holding's foreign key refuses the content, which nothing holds
    // now (garbage collection takes it), and the session went with it.
    if (isForeignKeyViolation(err)) throw sessionNotFound(row);
    throw err;
  }
  if (!md5) ctx.onStored?.(sha256);
  return sha256;
}

/**
 * The sha256 of a stored blob's first min(size, 1 MiB) bytes, read back
 * through the store (one ranged read, on the file system or S3 alike):
 * computed from the bytes published, whatever process appended them.
 */
async function headDigest(store: BlobStore, sha256: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of await store.get(sha256, { offset: 0, length: Math.min(size, HEAD_BYTES) })) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}
