// The content-addressed blob store that model files live in: each blob is
// named by the sha256 of its bytes, so identical content is stored once and a
// name can never point at different bytes. One interface (the domain's port,
// ../domain/ports/blob-store.ts), two implementations that pass the same
// contract test
// (./blob-store.contract.test.ts): the file system (./fs-blob-store.ts, the
// default) and S3-compatible object storage (./s3-blob-store.ts).
//
// Two ways in:
// - put(): one stream, hashed while it is written; for bodies that arrive
//   in one piece (exports, imports, small files).
// - staging: createStaging / append / stagedSize / commitStaging /
//   abortStaging; bytes arrive across requests at known offsets, which is
//   what resumable upload sessions need. The digest is checked when the
//   staged bytes are committed.
// Either way nothing is visible under a blob's final name until all of its
// bytes are stored and their digest matches.
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "../domain/shared/errors.js";
import { type BlobBody, type ByteRange, isSha256, readBody } from "../domain/ports/blob-store.js";
import { ChecksumMismatchError } from "../domain/ports/blob-store-errors.js";
import { ThreadMd5 } from "./md5-thread.js";

// The helpers the implementations share; the interface is the domain's port.
const STAGING_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Returns the digest when it is 64 lowercase hex characters, else throws InvalidArgumentError. */
export function checkSha256(value: unknown, field = "sha256"): string {
  if (typeof value === "string" && isSha256(value)) return value;
  const shown = typeof value === "string" ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : String(value);
  throw InvalidArgumentError.field(field, `${shown} is not a sha256 digest: expected 64 lowercase hex characters`);
}

export function checkStagingId(id: unknown): string {
  if (typeof id === "string" && STAGING_ID.test(id)) return id;
  throw InvalidArgumentError.field("staging_id", `${JSON.stringify(id)} is not a valid staging id: expected 1-128 letters, digits, '-' and '_'`);
}

export function checkByteCount(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw InvalidArgumentError.field(field, `${String(value)} is not a byte count: expected a whole number from 0`);
}

/** Validates put options up front, so a bad digest is refused before any byte is read. */
export function expectationsOf(opts: { expectedSha256?: string; expectedSize?: number }): { sha256?: string; size?: number } {
  return {
    sha256: opts.expectedSha256 === undefined ? undefined : checkSha256(opts.expectedSha256, "expected_sha256"),
    size: opts.expectedSize === undefined ? undefined : checkByteCount(opts.expectedSize, "expected_size"),
  };
}

/** Start and (exclusive) end of a range within a blob of `size` bytes. */
export function sliceOf(range: ByteRange | undefined, size: number): { start: number; end: number } {
  const offset = checkByteCount(range?.offset ?? 0, "offset");
  const length = range?.length === undefined ? undefined : checkByteCount(range.length, "length");
  if (offset > size) throw InvalidArgumentError.field("offset", `${offset} is past the end of the blob (${size} bytes)`);
  return { start: offset, end: length === undefined ? size : Math.min(size, offset + length) };
}

/**
 * sha256 (and md5 unless `{ md5: false }`) of everything fed to it, and the
 * byte count. With `{ md5: "thread" }` the md5 is computed on a worker
 * thread (./md5-thread.ts), in parallel: feed it through hashedBody(), which
 * waits when the thread falls behind and for its digest at the end, or call
 * settle() before result().
 */
export class Digester {
  readonly #sha256 = createHash("sha256");
  readonly #md5: ReturnType<typeof createHash> | undefined;
  readonly #thread: ThreadMd5 | undefined;
  #threadDigest: string | undefined;
  #result: { sha256: string; md5: string; size: number } | undefined;
  size = 0;

  constructor(opts: { md5?: boolean | "thread" } = {}) {
    this.#md5 = opts.md5 === false || opts.md5 === "thread" ? undefined : createHash("md5");
    this.#thread = opts.md5 === "thread" ? new ThreadMd5() : undefined;
  }

  update(chunk: Uint8Array): void {
    this.#sha256.update(chunk);
    this.#md5?.update(chunk);
    this.#thread?.update(chunk);
    this.size += chunk.length;
  }

  /** With a thread: true while it is far behind (then await drained()). */
  get backlogged(): boolean {
    return this.#thread?.backlogged ?? false;
  }

  drained(): Promise<void> {
    return this.#thread?.drained() ?? Promise.resolve();
  }

  /** Waits for the thread's md5 (nothing more may be fed after). */
  async settle(): Promise<void> {
    if (this.#thread && this.#threadDigest === undefined) this.#threadDigest = await this.#thread.digest();
  }

  /** Gives up the thread's md5 (the body failed); safe to call at any time. */
  dispose(): void {
    if (this.#threadDigest === undefined) this.#thread?.dispose();
  }

  /** The digests (md5 "" when not computed); after the first call nothing more may be fed. */
  result(): { sha256: string; md5: string; size: number } {
    if (this.#thread && this.#threadDigest === undefined) throw new Error("Digester: settle() the md5 thread before result()");
    this.#result ??= { sha256: this.#sha256.digest("hex"), md5: this.#threadDigest ?? this.#md5?.digest("hex") ?? "", size: this.size };
    return this.#result;
  }
}

/** Throws ChecksumMismatchError when the content is not what was declared. */
export function verify(expected: { sha256?: string; size?: number }, actual: { sha256: string; size: number }): void {
  if ((expected.sha256 !== undefined && expected.sha256 !== actual.sha256) || (expected.size !== undefined && expected.size !== actual.size))
    throw new ChecksumMismatchError(expected, { sha256: actual.sha256, size: actual.size });
}

/**
 * readBody, feeding a Digester on the way; stops with ChecksumMismatchError
 * as soon as the body is longer than `expected.size`, so an oversized upload
 * is not read to its end.
 */
export async function* hashedBody(
  body: BlobBody,
  digester: Digester,
  expected: { sha256?: string; size?: number },
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let settled = false;
  try {
    for await (const chunk of readBody(body, signal)) {
      digester.update(chunk);
      if (expected.size !== undefined && digester.size > expected.size)
        throw new ChecksumMismatchError(expected, { size: expected.size, atLeast: true });
      if (digester.backlogged) await digester.drained();
      yield chunk;
    }
    await digester.settle();
    settled = true;
  } finally {
    if (!settled) digester.dispose();
  }
}

/** Code of a Node system error (ENOENT, EEXIST, …). */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
