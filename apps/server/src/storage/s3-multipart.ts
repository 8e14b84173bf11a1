// Writing and copying S3 objects, as one request or as a multipart upload:
// cutting a stream into parts, uploading them a few at a time, and completing
// the upload only when the caller's commit says so (or aborting it).
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { MAX_PARTS, MiB, type S3Store } from "./s3-context.js";

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

async function abortUpload(ctx: S3Store, key: string, uploadId: string): Promise<void> {
  const { client, bucket } = ctx;
  // Best effort, see the top of s3-blob-store.ts.
  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
}

/**
 * Writes a stream to `key`. Once every byte is read, `commit` decides
 * (and may throw): only if it returns true does the object become
 * visible. Returns what `commit` returned.
 */
export async function writeObject(
  ctx: S3Store,
  key: string,
  source: AsyncIterable<Uint8Array>,
  size: number,
  commit: () => Promise<boolean>,
  signal?: AbortSignal,
): Promise<boolean> {
  const { client, bucket } = ctx;
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
    await forEachLimited(all(), ctx.queueSize, async ({ data }, index) => {
      if (index >= MAX_PARTS)
        throw new RangeError(`${key}: more than ${MAX_PARTS} parts of ${size} bytes; declare the size of content this large, or append it in several pieces`);
      const { ETag } = await client.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: data, ContentLength: data.length }),
        { abortSignal: signal },
      );
      done[index] = { PartNumber: index + 1, ETag };
    });
    if (!(await commit())) {
      await abortUpload(ctx, key, UploadId);
      return false;
    }
    await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }), { abortSignal: signal });
    return true;
  } catch (err) {
    await abortUpload(ctx, key, UploadId);
    throw err;
  }
}

/** Server-side copy; objects over maxCopyObjectSize (S3 allows 5 GiB) in parts with UploadPartCopy. */
export async function copyObject(ctx: S3Store, from: string, to: string, size: number): Promise<void> {
  const { client, bucket, copySource } = ctx;
  if (size <= ctx.maxCopyObjectSize) {
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: copySource(from) }));
    return;
  }
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to }));
  if (!UploadId) throw new Error(`CreateMultipartUpload of ${to} returned no upload id`);
  const part = Math.max(ctx.copyPartSize, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  const ranges = Array.from({ length: Math.ceil(size / part) }, (_, i) => ({ start: i * part, end: Math.min(size, (i + 1) * part) }));
  try {
    const done: CompletedPart[] = [];
    await forEachLimited(ranges, ctx.queueSize, async ({ start, end }, index) => {
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
    await abortUpload(ctx, to, UploadId);
    throw err;
  }
}
