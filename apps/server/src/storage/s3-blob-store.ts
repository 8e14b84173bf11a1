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
//
// Where the rest lives: s3-context.ts (the store's settings and keys),
// s3-multipart.ts (writing and copying objects, in parts when large),
// s3-put.ts (put), s3-reads.ts (has, get), s3-listing.ts (list, delete),
// s3-staging.ts (staged uploads).
import type { S3Client } from "@aws-sdk/client-s3";
import { keyedQueue } from "./keyed-queue.js";
import { MAX_PART, MIN_PART, MiB, type S3Store } from "./s3-context.js";
import { deleteBlob, listBlobs } from "./s3-listing.js";
import { putBlob } from "./s3-put.js";
import { getBlob, hasBlob } from "./s3-reads.js";
import { abortStaging, append, commitStaging, createStaging, stagedSize } from "./s3-staging.js";
import type { BlobStore } from "../domain/ports/blob-store.js";

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

export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const ctx = s3StoreOf(options);
  const store: BlobStore = {
    kind: "s3",
    overlappingAppends: false,
    put: (body, opts) => putBlob(ctx, body, opts),
    has: (sha256) => hasBlob(ctx, sha256),
    get: (sha256, range) => getBlob(ctx, sha256, range),
    delete: (sha256) => deleteBlob(ctx, sha256),
    list: () => listBlobs(ctx),
    createStaging: (id) => createStaging(ctx, id),
    append: (id, offset, body, opts) => append(ctx, id, offset, body, opts),
    stagedSize: (id) => stagedSize(ctx, id),
    commitStaging: (id, expectedSha256, opts) => commitStaging(ctx, id, expectedSha256, opts),
    abortStaging: (id) => abortStaging(ctx, id),

    async sweepAbandoned() {
      return 0; // the bucket's AbortIncompleteMultipartUpload lifecycle rule does it (see the top of this file)
    },

    async close() {
      if (options.ownsClient) options.client.destroy();
    },
  };
  return store;
}

/** The store's settings with their defaults, checked, and its keys under the prefix. */
function s3StoreOf(options: S3BlobStoreOptions): S3Store {
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
  const stagingDir = (id: string) => `${root}staging/${id}/`;
  return {
    client,
    bucket,
    partSize,
    queueSize,
    maxCopyObjectSize,
    copyPartSize,
    listPageSize,
    root,
    blobKey: (sha256: string) => `${root}sha256/${sha256.slice(0, 2)}/${sha256}`,
    stagingDir,
    chunkKey: (id: string, offset: number) => `${stagingDir(id)}${String(offset).padStart(16, "0")}`,
    copySource: (key: string) => `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
    queue: keyedQueue(),
    tails: new Map(),
  };
}
