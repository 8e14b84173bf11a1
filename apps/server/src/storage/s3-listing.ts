// Listing and deleting S3 objects: every key under a prefix page by page,
// deletes in batches, and the blob-level list() and delete() built on them.
import { DeleteObjectCommand, DeleteObjectsCommand, ListObjectsCommand } from "@aws-sdk/client-s3";
import { checkSha256 } from "./blob-store.js";
import type { S3Store } from "./s3-context.js";
import type { BlobInfo } from "../domain/ports/blob-store.js";

/**
 * Every object under `keyPrefix`, page by page. ListObjects (v1) with a
 * marker rather than v2 with a continuation token: every S3-compatible
 * server has it, and the test server cannot make v2 tokens on Node 20.
 */
export async function* listKeys(ctx: S3Store, keyPrefix: string): AsyncGenerator<{ key: string; size: number }> {
  const { client, bucket } = ctx;
  let marker: string | undefined;
  for (;;) {
    const page = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: keyPrefix, Marker: marker, MaxKeys: ctx.listPageSize }));
    const contents = page.Contents ?? [];
    for (const o of contents) if (o.Key) yield { key: o.Key, size: o.Size ?? 0 };
    const last = contents.at(-1)?.Key;
    if (!page.IsTruncated || !last) return;
    // Without a delimiter S3 sends no NextMarker: the last key is the marker.
    marker = page.NextMarker ?? last;
  }
}

export async function deleteKeys(ctx: S3Store, keys: string[]): Promise<void> {
  const { client, bucket } = ctx;
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const { Errors } = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    const failed = Errors?.[0];
    if (failed) throw new Error(`could not delete ${failed.Key} from bucket ${bucket}: ${failed.Code} ${failed.Message}`);
  }
}

export async function* listBlobs(ctx: S3Store): AsyncGenerator<BlobInfo> {
  const dir = `${ctx.root}sha256/`;
  for await (const { key, size } of listKeys(ctx, dir)) {
    const m = /^([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(key.slice(dir.length));
    if (m?.[2]?.startsWith(m[1]!)) yield { sha256: m[2], size };
  }
}

export async function deleteBlob(ctx: S3Store, sha256: string): Promise<void> {
  await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: ctx.blobKey(checkSha256(sha256)) }));
}
