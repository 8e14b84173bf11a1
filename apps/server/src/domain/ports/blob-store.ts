// The blob store as the domain needs it: a content-addressed store of bytes,
// each blob named by the sha256 of its content. The domain declares it and
// storage/ implements it (fs-blob-store.ts, s3-blob-store.ts; both pass
// storage/blob-store.contract.test.ts), so imports point one way: inward.
import type { Readable } from "node:stream";

/** A byte stream: a Node stream (e.g. an HTTP request), any async iterable of chunks, or an array of them. */
export type BlobBody = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | NodeJS.ReadableStream;

export interface PutOptions {
  /** Lowercase hex sha256 the content must have; when it differs nothing is kept (ChecksumMismatchError). */
  expectedSha256?: string;
  /** Size the content must have; reading stops as soon as the body is longer. */
  expectedSize?: number;
  /** Aborts the write; nothing is kept. */
  signal?: AbortSignal;
}

export interface CommitStagingOptions {
  /** Size the staged bytes must have. */
  expectedSize?: number;
  signal?: AbortSignal;
  /**
   * Called with the sha256 the blob is to be named by (the expected one, or
   * the one computed from the staged bytes) before the blob is made, or
   * found, under it; the commit waits for it and fails with its error. Lets
   * the caller claim the digest against garbage collection when it learns
   * the digest only from the bytes.
   */
  beforePublish?: (sha256: string) => Promise<void>;
}

export interface PutResult {
  /** Lowercase hex digests of the content. */
  sha256: string;
  /**
   * "" when the store did not compute it: a commit of staged bytes that were
   * hashed (sha256 only) as they were appended. MD5 is half as fast as
   * SHA-256 here, so it is computed off the upload's hot path.
   */
  md5: string;
  size: number;
  /**
   * false when the blob was stored already (the new bytes were verified and
   * dropped). On S3 two concurrent puts of the same new content may both
   * report true; on the file system exactly one does.
   */
  created: boolean;
}

export interface ByteRange {
  offset: number;
  /** Bytes to read; unset or past the end = up to the end. */
  length?: number;
}

export interface BlobInfo {
  sha256: string;
  size: number;
}

export interface BlobStore {
  readonly kind: "fs" | "s3";

  /**
   * Stores a stream, computing sha256 and md5 while it streams. With
   * `expectedSha256` (or `expectedSize`) and different content, nothing is
   * kept and ChecksumMismatchError is thrown. Never leaves a partial blob
   * visible under its final key.
   */
  put(body: BlobBody, opts?: PutOptions): Promise<PutResult>;

  /** The blob's size, or undefined when it is not stored. */
  has(sha256: string): Promise<{ size: number } | undefined>;

  /**
   * Reads a blob, or part of it. `offset` may equal the size (an empty
   * stream); past it is InvalidArgumentError. Throws BlobNotFoundError.
   */
  get(sha256: string, range?: ByteRange): Promise<Readable>;

  /**
   * Removes a blob; removing one that is not there is not an error. The
   * caller (garbage collection) makes sure nothing references it, including
   * uploads that are about to reference it: a put of the same content that
   * found it present just before reports created: false.
   */
  delete(sha256: string): Promise<void>;

  /** Every stored blob, in digest order, read page by page (for garbage collection). */
  list(): AsyncIterable<BlobInfo>;

  /**
   * Starts a staged (resumable) upload under a caller-chosen id (1-128
   * letters, digits, '-' and '_'), e.g. the upload session's id. Creating
   * one that exists already leaves it as it is, so a retried call is safe.
   */
  createStaging(id: string): Promise<void>;

  /**
   * Appends a body at `offset`, which must be the staged size
   * (OffsetMismatchError otherwise), and returns the new staged size, which
   * is durable when this returns. A failed append keeps none of its bytes.
   * The upload session appends a request in steps (16 MiB), one append
   * each, so a cut request keeps its whole steps. Appends (and the commit)
   * of one id take turns within a process, so a second writer at the same
   * offset is refused; writers in several processes each write whole
   * pieces at their offsets, and the digest check at commit catches bytes
   * that are not the content's.
   */
  append(id: string, offset: number, body: BlobBody, opts?: { signal?: AbortSignal }): Promise<number>;

  /**
   * Whether an append may start while the one before it (of the same id)
   * is still being made durable, once that one has taken its whole body:
   * it then writes meanwhile, and returns after it. The file system's
   * appends hold the staging's turn only while they write (their fsync
   * comes after); on S3 an append is one object, durable when its last
   * byte is stored, so the next one waits.
   */
  readonly overlappingAppends: boolean;

  /** Bytes staged so far by completed appends (never part of one in progress); throws StagingNotFoundError. */
  stagedSize(id: string): Promise<number>;

  /**
   * Verifies the staged bytes against `expectedSha256` (and size), then
   * makes them the blob. The bytes are read back unless this process hashed
   * every one of them as it appended them (then md5 is ""). On a mismatch the staged bytes are
   * kept (so the caller can still append or look) and ChecksumMismatchError
   * is thrown; on success the staging is gone.
   *
   * With `expectedSha256` undefined the blob is named by the sha256 of the
   * staged bytes, whatever it is (the result's `sha256`; on S3 that costs a
   * hashing pass before the copy, which must know the blob's name).
   */
  commitStaging(id: string, expectedSha256: string | undefined, opts?: CommitStagingOptions): Promise<PutResult>;

  /** Drops the staged bytes; dropping a staging that is not there is not an error. */
  abortStaging(id: string): Promise<void>;

  /**
   * Removes what puts that never finished left behind (their process died
   * mid-way) and has not been written to for `olderThanMs`; returns how many.
   * On S3 an unfinished put is an incomplete multipart upload, which the
   * bucket's AbortIncompleteMultipartUpload lifecycle rule removes: 0 there.
   */
  sweepAbandoned(olderThanMs: number): Promise<number>;

  /** Releases what the store holds open (the S3 client it created). */
  close(): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** 64 lowercase hex characters: a blob's name. */
export const isSha256 = (value: string): boolean => SHA256_HEX.test(value);

/**
 * The chunks of a body. An abort destroys a Node stream at once (so a read
 * that waits on a slow client ends); a plain async iterable is checked
 * between chunks. Leaving the loop early destroys the stream too.
 */
export async function* readBody(body: BlobBody, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  signal?.throwIfAborted();
  const destroyable = body as { destroy?: (err?: Error) => void };
  const onAbort = () => destroyable.destroy?.(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>) {
      signal?.throwIfAborted();
      if (typeof chunk === "string") throw new TypeError("a blob body yields bytes, not strings (is an encoding set on the stream?)");
      if (chunk.length > 0) yield chunk;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
