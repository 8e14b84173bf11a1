// The blob store on S3-compatible object storage (AWS S3, MinIO, Ceph RGW,
// R2, …), for replicas that share no disk. Keys under the prefix:
//
//   sha256/ab/abcdef…        one object per blob, named by its digest
//   tmp/<uuid>               a put whose digest was not declared
//   staging/<id>/created     a staged upload exists
//   staging/<id>/<offset>    the bytes of one append, offset as 16 digits
//
// A blob's key never shows a partial object: a single PutObject is sent only
// once the whole body is read and hashed, and a multipart upload is invisible
// until CompleteMultipartUpload, which is sent only when the digest matches.
//
// Only the most common S3 operations are used (Put, Get, Head, Delete,
// DeleteObjects, ListObjects, Copy, multipart upload and UploadPartCopy), so
// any S3-compatible server will do, including the one the tests start.
// AbortMultipartUpload is sent on failures but best effort: parts whose
// abort is lost (a crash, or a server without it) are reclaimed by a bucket
// lifecycle rule (AbortIncompleteMultipartUpload), which operators should
// set, together with an expiry on tmp/ and staging/ longer than any upload.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { checkByteCount, checkSha256, checkStagingId, Digester, expectationsOf, hashedBody, sliceOf, verify } from "./blob-store.js";
import { type BlobBody, type BlobStore, type ByteRange, type PutResult, readBody } from "../domain/ports/blob-store.js";
import { BlobNotFoundError, ChecksumMismatchError, OffsetMismatchError, StagingNotFoundError } from "../domain/ports/blob-store-errors.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** S3's limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 of them. */
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * GiB;
const MAX_PARTS = 10_000;

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix without leading or trailing '/'; "" for the bucket's root. */
  prefix?: string;
  /**
   * Multipart part size (default 16 MiB). A put keeps up to
   * (queueSize + 2) parts in memory. When the size is known in advance the
   * part grows so that 10,000 parts hold it; a put of unknown size is
   * limited to 10,000 parts.
   */
  partSize?: number;
  /** Parts uploaded at once per put (default 4). */
  queueSize?: number;
  /** Largest object copied with one CopyObject (default and S3's maximum: 5 GiB); larger ones are copied in parts. */
  maxCopyObjectSize?: number;
  /** Part size of copies in parts (default 512 MiB). */
  copyPartSize?: number;
  /** Keys per ListObjects page (default 1000, S3's maximum). */
  listPageSize?: number;
  /** Destroy the client on close(): set when the store created it. */
  ownsClient?: boolean;
}

const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;

/**
 * Cuts a stream of chunks into parts of exactly `size` bytes but the last,
 * looking one chunk ahead so the last part is marked (a body that fits in one
 * part becomes one PutObject). Yields at least one (possibly empty) part.
 */
async function* partsOf(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<{ data: Buffer; last: boolean }> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let full: Buffer | undefined;
  for await (let chunk of source) {
    while (chunk.length > 0) {
      if (full) {
        yield { data: full, last: false };
        full = undefined;
      }
      const take = Math.min(chunk.length, size - pendingBytes);
      pending.push(chunk.subarray(0, take));
      pendingBytes += take;
      chunk = chunk.subarray(take);
      if (pendingBytes === size) {
        full = Buffer.concat(pending, size);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (full) yield { data: full, last: pendingBytes === 0 };
  if (!full || pendingBytes > 0) yield { data: Buffer.concat(pending, pendingBytes), last: true };
}

/** Runs `fn` on each item with at most `limit` at once; the first failure stops the intake and is thrown once all started calls have settled. */
async function forEachLimited<T>(items: AsyncIterable<T> | Iterable<T>, limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let index = 0;
  try {
    for await (const item of items) {
      const p: Promise<void> = fn(item, index++)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => running.delete(p));
      running.add(p);
      while (running.size >= limit) await Promise.race(running);
      if (failure) break;
    }
  } finally {
    await Promise.all(running);
  }
  if (failure) throw failure.error;
}

export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { client, bucket } = options;
  const partSize = options.partSize ?? 16 * MiB;
  const queueSize = options.queueSize ?? 4;
  const maxCopyObjectSize = options.maxCopyObjectSize ?? MAX_PART;
  const copyPartSize = options.copyPartSize ?? 512 * MiB;
  const listPageSize = options.listPageSize ?? 1000;
  if (partSize < MIN_PART || partSize > MAX_PART || copyPartSize < MIN_PART || copyPartSize > MAX_PART)
    throw new RangeError("partSize and copyPartSize must be from 5 MiB to 5 GiB, S3's limits for a part");
  const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
  const root = prefix ? `${prefix}/` : "";
  const blobKey = (sha256: string) => `${root}sha256/${sha256.slice(0, 2)}/${sha256}`;
  const stagingDir = (id: string) => `${root}staging/${id}/`;
  const chunkKey = (id: string, offset: number) => `${stagingDir(id)}${String(offset).padStart(16, "0")}`;
  const copySource = (key: string) => `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;

  /** Part size that fits `size` bytes into S3's 10,000 parts (rounded up to whole MiB). */
  const partSizeFor = (size: number | undefined) =>
    size === undefined ? partSize : Math.min(MAX_PART, Math.max(partSize, Math.ceil(size / MAX_PARTS / MiB) * MiB));

  async function headSize(key: string): Promise<number | undefined> {
    try {
      return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async function abortUpload(key: string, uploadId: string): Promise<void> {
    // Best effort, see the top of the file.
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
  }

  /**
   * Writes a stream to `key`. Once every byte is read, `commit` decides
   * (and may throw): only if it returns true does the object become
   * visible. Returns what `commit` returned.
   */
  async function writeObject(key: string, source: AsyncIterable<Uint8Array>, size: number, commit: () => Promise<boolean>, signal?: AbortSignal): Promise<boolean> {
    const parts = partsOf(source, size);
    const first = await parts.next();
    if (first.done) throw new Error("partsOf yields at least one part");
    const head = first.value;
    if (head.last) {
      await parts.return(undefined);
      if (!(await commit())) return false;
      const data = head.data;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.length }), { abortSignal: signal });
      return true;
    }
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    if (!UploadId) throw new Error(`CreateMultipartUpload of ${key} returned no upload id`);
    try {
      const done: CompletedPart[] = [];
      async function* all() {
        yield head;
        yield* parts;
      }
      await forEachLimited(all(), queueSize, async ({ data }, index) => {
        if (index >= MAX_PARTS)
          throw new RangeError(`${key}: more than ${MAX_PARTS} parts of ${size} bytes; declare the size of content this large, or append it in several pieces`);
        const { ETag } = await client.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: data, ContentLength: data.length }),
          { abortSignal: signal },
        );
        done[index] = { PartNumber: index + 1, ETag };
      });
      if (!(await commit())) {
        await abortUpload(key, UploadId);
        return false;
      }
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }), { abortSignal: signal });
      return true;
    } catch (err) {
      await abortUpload(key, UploadId);
      throw err;
    }
  }

  /** Server-side copy; objects over maxCopyObjectSize (S3 allows 5 GiB) in parts with UploadPartCopy. */
  async function copyObject(from: string, to: string, size: number): Promise<void> {
    if (size <= maxCopyObjectSize) {
      await client.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: copySource(from) }));
      return;
    }
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to }));
    if (!UploadId) throw new Error(`CreateMultipartUpload of ${to} returned no upload id`);
    const part = Math.max(copyPartSize, Math.ceil(size / MAX_PARTS / MiB) * MiB);
    const ranges = Array.from({ length: Math.ceil(size / part) }, (_, i) => ({ start: i * part, end: Math.min(size, (i + 1) * part) }));
    try {
      const done: CompletedPart[] = [];
      await forEachLimited(ranges, queueSize, async ({ start, end }, index) => {
        const { CopyPartResult } = await client.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: to,
            UploadId,
            PartNumber: index + 1,
            CopySource: copySource(from),
            CopySourceRange: `bytes=${start}-${end - 1}`,
          }),
        );
        done[index] = { PartNumber: index + 1, ETag: CopyPartResult?.ETag };
      });
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId, MultipartUpload: { Parts: done } }));
    } catch (err) {
      await abortUpload(to, UploadId);
      throw err;
    }
  }

  /**
   * Every object under `keyPrefix`, page by page. ListObjects (v1) with a
   * marker rather than v2 with a continuation token: every S3-compatible
   * server has it, and the test server cannot make v2 tokens on Node 20.
   */
  async function* listKeys(keyPrefix: string): AsyncGenerator<{ key: string; size: number }> {
    let marker: string | undefined;
    for (;;) {
      const page = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: keyPrefix, Marker: marker, MaxKeys: listPageSize }));
      const contents = page.Contents ?? [];
      for (const o of contents) if (o.Key) yield { key: o.Key, size: o.Size ?? 0 };
      const last = contents.at(-1)?.Key;
      if (!page.IsTruncated || !last) return;
      // Without a delimiter S3 sends no NextMarker: the last key is the marker.
      marker = page.NextMarker ?? last;
    }
  }

  async function deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const { Errors } = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      const failed = Errors?.[0];
      if (failed) throw new Error(`could not delete ${failed.Key} from bucket ${bucket}: ${failed.Code} ${failed.Message}`);
    }
  }

  /**
   * The staged bytes of `id`: the chain of append objects from offset 0,
   * each starting where the one before ends. An object off the chain can
   * only come from appends racing across processes (see BlobStore.append);
   * it is ignored, and removed with the staging.
   */
  async function staged(id: string): Promise<{ size: number; chain: string[]; keys: string[] }> {
    const dir = stagingDir(id);
    const keys: string[] = [];
    const chunks = new Map<number, { key: string; size: number }>();
    let created = false;
    for await (const { key, size } of listKeys(dir)) {
      keys.push(key);
      const name = key.slice(dir.length);
      if (name === "created") created = true;
      else if (/^\d{16}$/.test(name)) chunks.set(Number(name), { key, size });
    }
    if (!created) throw new StagingNotFoundError(id);
    const chain: string[] = [];
    let size = 0;
    for (let c = chunks.get(0); c && c.size > 0; c = chunks.get(size)) {
      chain.push(c.key);
      size += c.size;
    }
    return { size, chain, keys };
  }

  /** Removes a staging's objects, the `created` marker last, so a crash midway leaves a staging that can be aborted again. */
  async function dropStaging(id: string, keys: string[]): Promise<void> {
    const marker = `${stagingDir(id)}created`;
    await deleteKeys(keys.filter((k) => k !== marker));
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: marker }));
  }

  async function* readObjects(keys: string[], signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    for (const key of keys) {
      const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      if (!Body) throw new Error(`GetObject of ${key} returned no body`);
      yield* readBody(Body as Readable, signal);
    }
  }

  const store: BlobStore = {
    kind: "s3",

    async put(body: BlobBody, opts = {}): Promise<PutResult> {
      const expected = expectationsOf(opts);
      const digester = new Digester({ md5: "thread" });
      const source = hashedBody(body, digester, expected, opts.signal);
      const size = partSizeFor(expected.size);

      if (expected.sha256 !== undefined) {
        const sha256 = expected.sha256;
        // Stored already: verify the bytes, upload nothing.
        if ((await headSize(blobKey(sha256))) !== undefined) {
          for await (const _ of source);
          const got = digester.result();
          verify(expected, got);
          return { ...got, created: false };
        }
        // The key is known: write straight to it, committing only when the
        // digest matches and nobody stored the blob meanwhile.
        const created = await writeObject(
          blobKey(sha256),
          source,
          size,
          async () => {
            verify(expected, digester.result());
            return (await headSize(blobKey(sha256))) === undefined;
          },
          opts.signal,
        );
        return { ...digester.result(), created };
      }

      // The key is known only at the end: write to a temp key, then copy on
      // the server side. An object cannot be renamed in S3.
      const tmp = `${root}tmp/${randomUUID()}`;
      try {
        await writeObject(
          tmp,
          source,
          size,
          async () => {
            verify(expected, digester.result());
            return true;
          },
          opts.signal,
        );
        const got = digester.result();
        if ((await headSize(blobKey(got.sha256))) !== undefined) return { ...got, created: false };
        await copyObject(tmp, blobKey(got.sha256), got.size);
        return { ...got, created: true };
      } finally {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: tmp })).catch(() => undefined);
      }
    },

    async has(sha256) {
      const size = await headSize(blobKey(checkSha256(sha256)));
      return size === undefined ? undefined : { size };
    },

    async get(sha256, range?: ByteRange) {
      const key = blobKey(checkSha256(sha256));
      const offset = checkByteCount(range?.offset ?? 0, "offset");
      const length = range?.length === undefined ? undefined : checkByteCount(range.length, "length");
      // An empty range cannot be asked of S3 (416); the size decides.
      const emptyRange = async () => {
        const size = await headSize(key);
        if (size === undefined) throw new BlobNotFoundError(sha256);
        sliceOf(range, size); // throws when the offset is past the end
        return Readable.from([]);
      };
      if (length === 0) return emptyRange();
      try {
        const { Body } = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            Range: offset === 0 && length === undefined ? undefined : `bytes=${offset}-${length === undefined ? "" : offset + length - 1}`,
          }),
        );
        if (!Body) throw new Error(`GetObject of ${key} returned no body`);
        return Body instanceof Readable ? Body : Readable.from(Body as AsyncIterable<Uint8Array>);
      } catch (err) {
        if (statusOf(err) === 404) throw new BlobNotFoundError(sha256);
        if (statusOf(err) === 416) return emptyRange();
        throw err;
      }
    },

    async delete(sha256) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: blobKey(checkSha256(sha256)) }));
    },

    async *list() {
      const dir = `${root}sha256/`;
      for await (const { key, size } of listKeys(dir)) {
        const m = /^([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(key.slice(dir.length));
        if (m?.[2]?.startsWith(m[1]!)) yield { sha256: m[2], size };
      }
    },

    async createStaging(id) {
      checkStagingId(id);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${stagingDir(id)}created`, Body: Buffer.alloc(0), ContentLength: 0 }));
    },

    // Each append becomes one object, visible only once all its bytes are
    // in, so a failed append keeps nothing, and the staged size is the end of
    // the chain of these objects. Simpler than one multipart upload across
    // requests, which would need the parts below 5 MiB kept somewhere in
    // between and ListParts to recover; the price is paid at commit, which
    // streams the objects into the blob (read once to hash, written once).
    async append(id, offset, body: BlobBody, opts = {}) {
      checkStagingId(id);
      checkByteCount(offset, "offset");
      const { size } = await staged(id);
      if (size !== offset) throw new OffsetMismatchError(id, offset, size);
      let received = 0;
      const counted = (async function* () {
        for await (const chunk of readBody(body, opts.signal)) {
          received += chunk.length;
          yield chunk;
        }
      })();
      await writeObject(chunkKey(id, offset), counted, partSize, async () => received > 0, opts.signal);
      return offset + received;
    },

    async stagedSize(id) {
      checkStagingId(id);
      return (await staged(id)).size;
    },

    async commitStaging(id, expectedSha256, opts = {}): Promise<PutResult> {
      checkStagingId(id);
      const expected = expectationsOf({ expectedSha256, expectedSize: opts.expectedSize });
      const sha256 = expected.sha256!;
      const { size, chain, keys } = await staged(id);
      // The size is known before reading: refuse a wrong one without reading.
      if (expected.size !== undefined && expected.size !== size) throw new ChecksumMismatchError(expected, { size });
      const digester = new Digester();
      const source = hashedBody(readObjects(chain, opts.signal), digester, expected, opts.signal);
      let created: boolean;
      if ((await headSize(blobKey(sha256))) !== undefined) {
        for await (const _ of source);
        verify(expected, digester.result());
        created = false;
      } else {
        // Hashing and writing in one pass: the blob's multipart upload is
        // completed only if the digest matches.
        created = await writeObject(
          blobKey(sha256),
          source,
          partSizeFor(size),
          async () => {
            verify(expected, digester.result());
            return (await headSize(blobKey(sha256))) === undefined;
          },
          opts.signal,
        );
      }
      await dropStaging(id, keys);
      return { ...digester.result(), created };
    },

    async abortStaging(id) {
      checkStagingId(id);
      const keys: string[] = [];
      for await (const { key } of listKeys(stagingDir(id))) keys.push(key);
      await dropStaging(id, keys);
    },

    async sweepAbandoned() {
      return 0; // the bucket's AbortIncompleteMultipartUpload lifecycle rule does it (see the top of this file)
    },

    async close() {
      if (options.ownsClient) client.destroy();
    },
  };
  return store;
}
