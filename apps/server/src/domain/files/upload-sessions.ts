// Upload sessions: resumable uploads of one blob each, created by staging a
// version's files. Both byte paths (plain HTTP PUT and the WriteUpload RPC)
// end in write(): bytes are appended at the committed offset (durable when
// it returns); when the last byte is in, the content is verified and
// published, and the workspace holds it.
import { type Database, models, uploadSessions, type UploadSessionRow, versions } from "@modelreg/db";
import { and, eq, gt, sql } from "drizzle-orm";
import { ResourceExhaustedError } from "../ports/limiter.js";
import type { ConcurrencyLimiter } from "../ports/limiter.js";
import { type BlobBody, type BlobStore, readBody } from "../ports/blob-store.js";
import { ChecksumMismatchError, StagingNotFoundError } from "../ports/blob-store-errors.js";
import { claimBlob, recordHolding } from "./blob-holdings.js";
import { InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { versionResourceName } from "../shared/resource-names.js";
import { inScope, type Scope } from "../shared/scope.js";
import { WORKSPACE_ID } from "../shared/validation.js";

export interface UploadSessionView {
  id: string;
  workspace: string;
  /** `workspaces/{w}/uploads/{id}`. */
  name: string;
  /** Resource name of the version. */
  version: string;
  sha256: string;
  size: number;
  committedOffset: number;
  complete: boolean;
  expireTime: Date;
  maxChunkBytes: number;
}

/** Largest body of one PUT or one WriteUpload stream. */
export const MAX_CHUNK_BYTES = 256 * 1024 * 1024;

export const uploadSessionName = (workspace: string, id: string) => `workspaces/${workspace}/uploads/${id}`;

export function sessionView(row: UploadSessionRow, version: string, committedOffset: number, maxChunkBytes: number): UploadSessionView {
  return {
    id: row.id,
    workspace: row.workspace,
    name: uploadSessionName(row.workspace, row.id),
    version,
    sha256: row.sha256,
    size: row.size,
    committedOffset,
    complete: row.complete,
    expireTime: row.expireTime,
    maxChunkBytes,
  };
}

const SESSION_ID = /^[A-Za-z0-9]{1,64}$/;

export function parseUploadSessionName(field: string, name: string): { workspace: string; id: string } {
  const parts = name.split("/");
  if (parts.length !== 4 || parts[0] !== "workspaces" || parts[2] !== "uploads" || !WORKSPACE_ID.test(parts[1]!) || !SESSION_ID.test(parts[3]!))
    throw InvalidArgumentError.field(field, `${name === "" ? "is required" : `"${name.slice(0, 80)}" is not an upload session name`}: expected workspaces/{workspace}/uploads/{upload}, as StageVersionFiles returned it`);
  return { workspace: parts[1]!, id: parts[3]! };
}

/** The content received does not match the session; it was dropped and the session starts over. */
export class UploadRestartedError extends InvalidArgumentError {
  constructor(cause: ChecksumMismatchError, name: string) {
    super([{ field: cause.violations[0]?.field ?? "sha256", description: `${cause.violations[0]?.description ?? "checksum mismatch"}. Upload ${name} starts over: send the content again from offset 0` }]);
  }
}

/** A chunk larger than the server accepts in one request. */
export class ChunkTooLargeError extends InvalidArgumentError {
  constructor(limit: number) {
    super([{ field: "data", description: `one request carries at most ${limit} bytes (max_chunk_bytes); send the content in chunks of at most that size` }]);
  }
}

export interface UploadSessionsDeps {
  db: Database;
  store: BlobStore;
  /** Per-key uploads in flight (at most `max`); undefined = unlimited. */
  concurrency?: { limiter: ConcurrencyLimiter; max: number };
  /** Called after content is published without an md5 (to compute it off the hot path). */
  onStored?: (sha256: string) => void;
  maxChunkBytes?: number;
}

export type UploadSessionsDomain = ReturnType<typeof createUploadSessionsDomain>;

export function createUploadSessionsDomain(deps: UploadSessionsDeps) {
  const { db, store } = deps;
  const maxChunk = deps.maxChunkBytes ?? MAX_CHUNK_BYTES;

  async function load(scope: Scope, target: { workspace: string; id: string }) {
    const [hit] = await db
      .select({ s: uploadSessions, modelName: models.name, version: versions.version })
      .from(uploadSessions)
      .innerJoin(versions, eq(versions.id, uploadSessions.versionId))
      .innerJoin(models, eq(models.id, versions.modelId))
      .where(and(eq(uploadSessions.id, target.id), eq(uploadSessions.workspace, target.workspace), inScope(scope, uploadSessions.workspace), gt(uploadSessions.expireTime, sql`now()`)));
    if (!hit)
      throw new NotFoundError(
        "upload session",
        `${uploadSessionName(target.workspace, target.id)} (it expired, or its version was committed, re-staged or deleted; stage the files again)`,
      );
    return { row: hit.s, version: versionResourceName(hit.s.workspace, hit.modelName, hit.version) };
  }

  async function offsetOf(row: UploadSessionRow): Promise<number> {
    if (row.complete) return row.size;
    try {
      return await store.stagedSize(row.id);
    } catch (err) {
      if (!(err instanceof StagingNotFoundError)) throw err;
      await store.createStaging(row.id);
      return 0;
    }
  }

  /** Publishes the complete staged content; on a digest mismatch drops it and starts the session over. */
  async function finish(row: UploadSessionRow, name: string): Promise<void> {
    await claimBlob(db, row.sha256, row.size);
    let md5: string;
    try {
      ({ md5 } = await store.commitStaging(row.id, row.sha256, { expectedSize: row.size }));
    } catch (err) {
      if (!(err instanceof ChecksumMismatchError)) throw err;
      await store.abortStaging(row.id);
      await store.createStaging(row.id);
      throw new UploadRestartedError(err, name);
    }
    await db.transaction(async (tx) => {
      await recordHolding(tx, row.workspace, row.sha256, md5);
      await tx.update(uploadSessions).set({ complete: true }).where(eq(uploadSessions.id, row.id));
    });
    if (!md5) deps.onStored?.(row.sha256);
  }

  return {
    async get(scope: Scope, name: string): Promise<UploadSessionView> {
      const target = parseUploadSessionName("name", name);
      const { row, version } = await load(scope, target);
      return sessionView(row, version, await offsetOf(row), maxChunk);
    },

    /**
     * Appends `body` at `offset` and, when that completes the content,
     * verifies and publishes it. A retry of a write that already completed
     * the session answers with the complete session and writes nothing.
     */
    async write(
      scope: Scope,
      target: { workspace: string; id: string },
      offset: number,
      body: BlobBody,
      opts: { signal?: AbortSignal; totalSize?: number } = {},
    ): Promise<UploadSessionView> {
      if (!Number.isSafeInteger(offset) || offset < 0) throw InvalidArgumentError.field("offset", `${offset} is not a byte offset: expected a whole number from 0`);
      const { row, version } = await load(scope, target);
      // A client's declared total (HTTP Content-Range) must be the session's size.
      if (opts.totalSize !== undefined && opts.totalSize !== row.size)
        throw InvalidArgumentError.field("size_bytes", `the content was declared as ${opts.totalSize} bytes, but the upload session expects ${row.size}`);
      const name = uploadSessionName(row.workspace, row.id);
      if (row.complete) {
        for await (const _ of readBody(body, opts.signal)); // drain: the content is in already
        return sessionView(row, version, row.size, maxChunk);
      }
      const slot = deps.concurrency?.limiter.acquire(row.accessKeyId); // "" = every caller with AUTH=off
      if (slot && !slot.ok)
        throw ResourceExhaustedError.tooManyConcurrent(row.accessKeyId ? `access key ${row.accessKeyId}` : "this server (AUTH=off)", deps.concurrency!.max);
      try {
        const room = Math.min(maxChunk, row.size - offset);
        const limited = (async function* () {
          let n = 0;
          for await (const chunk of readBody(body, opts.signal)) {
            n += chunk.length;
            if (n > room) {
              if (row.size - offset <= maxChunk)
                throw InvalidArgumentError.field("data", `the upload is ${row.size} bytes, but more than ${row.size - offset} bytes were sent from offset ${offset}`);
              throw new ChunkTooLargeError(maxChunk);
            }
            yield chunk;
          }
        })();
        let size: number;
        try {
          size = await store.append(row.id, offset, limited, { signal: opts.signal });
        } catch (err) {
          // A staging lost before its first byte (a crash right after staging): make it, then append.
          if (!(err instanceof StagingNotFoundError) || offset !== 0) throw err;
          await store.createStaging(row.id);
          size = await store.append(row.id, offset, limited, { signal: opts.signal });
        }
        if (size === row.size) {
          await finish(row, name);
          return sessionView({ ...row, complete: true }, version, size, maxChunk);
        }
        return sessionView(row, version, size, maxChunk);
      } finally {
        if (slot?.ok) slot.release();
      }
    },
  };
}
