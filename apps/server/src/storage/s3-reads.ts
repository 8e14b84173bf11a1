// Reads of the S3 blob store: a blob's size, its bytes or a range of them
// (S3 cannot be asked for an empty range), and a run of objects read as one
// stream (a staging's appends, at commit).
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { checkByteCount, checkSha256, sliceOf } from "./blob-store.js";
import { headSize, type S3Store, statusOf } from "./s3-context.js";
import { type ByteRange, readBody } from "../domain/ports/blob-store.js";
import { BlobNotFoundError } from "../domain/ports/blob-store-errors.js";

export async function hasBlob(ctx: S3Store, sha256: string): Promise<{ size: number } | undefined> {
  const size = await headSize(ctx, ctx.blobKey(checkSha256(sha256)));
  return size === undefined ? undefined : { size };
}

export async function getBlob(ctx: S3Store, sha256: string, range?: ByteRange): Promise<Readable> {
  const { client, bucket } = ctx;
  const key = ctx.blobKey(checkSha256(sha256));
  const offset = checkByteCount(range?.offset ?? 0, "offset");
  const length = range?.length === undefined ? undefined : checkByteCount(range.length, "length");
  // An empty range cannot be asked of S3 (416); the size decides.
  const emptyRange = async () => {
    const size = await headSize(ctx, key);
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
}

/** The bytes of `keys`, one object after the other. */
export async function* readObjects(ctx: S3Store, keys: string[], signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const { client, bucket } = ctx;
  for (const key of keys) {
    const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    if (!Body) throw new Error(`GetObject of ${key} returned no body`);
    yield* readBody(Body as Readable, signal);
  }
}
