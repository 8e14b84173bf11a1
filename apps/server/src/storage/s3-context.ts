// What the S3 blob store holds between calls: the client, the bucket, its
// sizes and the keys under the prefix (see the top of s3-blob-store.ts).
// Built once by createS3BlobStore() and passed first to every operation.
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { KeyedQueue } from "./keyed-queue.js";

export const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** S3's limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 of them. */
export const MIN_PART = 5 * MiB;
export const MAX_PART = 5 * GiB;
export const MAX_PARTS = 10_000;

export interface S3Store {
  client: S3Client;
  bucket: string;
  /** Multipart part size of puts and appends. */
  partSize: number;
  /** Parts uploaded at once per put. */
  queueSize: number;
  /** Largest object copied with one CopyObject; larger ones are copied in parts. */
  maxCopyObjectSize: number;
  /** Part size of copies in parts. */
  copyPartSize: number;
  /** Keys per ListObjects page. */
  listPageSize: number;
  /** The prefix with a trailing '/', or "" for the bucket's root. */
  root: string;
  blobKey: (sha256: string) => string;
  stagingDir: (id: string) => string;
  chunkKey: (id: string, offset: number) => string;
  copySource: (key: string) => string;
  /** Serialises the appends and the commit of one staging within this process. */
  queue: KeyedQueue;
  /**
   * Where each staging's chain ends after this process's last append to it,
   * so the next append (the next 16 MiB step of a request) need not list
   * the staging again: listing before every step would cost a number of
   * LIST pages that grows with the square of the upload's size (a HEAD of
   * its marker says it is still there). Bounded; an append at any other
   * offset lists.
   */
  tails: Map<string, number>;
}

export const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;

/** Part size that fits `size` bytes into S3's 10,000 parts (rounded up to whole MiB). */
export const partSizeFor = (ctx: S3Store, size: number | undefined) =>
  size === undefined ? ctx.partSize : Math.min(MAX_PART, Math.max(ctx.partSize, Math.ceil(size / MAX_PARTS / MiB) * MiB));

/** The object's size, or undefined when there is none at `key`. */
export async function headSize(ctx: S3Store, key: string): Promise<number | undefined> {
  const { client, bucket } = ctx;
  try {
    return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}
