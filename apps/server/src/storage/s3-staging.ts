// Staged (resumable) uploads on S3: a `created` marker under
// staging/<id>/, then one object per append, named by its offset. The
// staged bytes are the chain of those objects from offset 0; commit streams
// them into the blob, hashing as it goes. Appends and the commit of one id
// are serialised within the process (S3Store.queue).
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { checkByteCount, checkStagingId, Digester, expectationsOf, hashedBody, verify } from "./blob-store.js";
import { headSize, partSizeFor, type S3Store } from "./s3-context.js";
import { deleteKeys, listKeys } from "./s3-listing.js";
import { writeObject } from "./s3-multipart.js";
import { readObjects } from "./s3-reads.js";
import { type BlobBody, type CommitStagingOptions, type PutResult, readBody } from "../domain/ports/blob-store.js";
import { ChecksumMismatchError, OffsetMismatchError, StagingNotFoundError } from "../domain/ports/blob-store-errors.js";

/**
 * The staged bytes of `id`: the chain of append objects from offset 0,
 * each starting where the one before ends. An object off the chain can
 * only come from appends racing across processes (see BlobStore.append);
 * it is ignored, and removed with the staging.
 */
async function staged(ctx: S3Store, id: string): Promise<{ size: number; chain: string[]; keys: string[] }> {
  const dir = ctx.stagingDir(id);
  const keys: string[] = [];
  const chunks = new Map<number, { key: string; size: number }>();
  let created = false;
  for await (const { key, size } of listKeys(ctx, dir)) {
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
async function dropStaging(ctx: S3Store, id: string, keys: string[]): Promise<void> {
  const marker = `${ctx.stagingDir(id)}created`;
  await deleteKeys(ctx, keys.filter((k) => k !== marker));
  await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: marker }));
}

/** Chain ends remembered at most (S3Store.tails). */
const MAX_TAILS = 1000;

export async function createStaging(ctx: S3Store, id: string): Promise<void> {
  checkStagingId(id);
  await ctx.client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: `${ctx.stagingDir(id)}created`, Body: Buffer.alloc(0), ContentLength: 0 }));
}

// Each append becomes one object, visible only once all its bytes are
// in, so a failed append keeps nothing, and the staged size is the end of
// the chain of these objects. Simpler than one multipart upload across
// requests, which would need the parts below 5 MiB kept somewhere in
// between and ListParts to recover; the price is paid at commit, which
// streams the objects into the blob (read once to hash, written once).
export async function append(ctx: S3Store, id: string, offset: number, body: BlobBody, opts: { signal?: AbortSignal } = {}): Promise<number> {
  checkStagingId(id);
  checkByteCount(offset, "offset");
  return ctx.queue(id, async () => {
    const { tails } = ctx;
    let size: number;
    if (tails.get(id) === offset) {
      // The chain ends where this process left it; the marker says the staging is still there (another replica may have committed or dropped it).
      if ((await headSize(ctx, `${ctx.stagingDir(id)}created`)) === undefined) {
        tails.delete(id);
        throw new StagingNotFoundError(id);
      }
      size = offset;
    } else size = (await staged(ctx, id)).size;
    tails.delete(id);
    if (size !== offset) throw new OffsetMismatchError(id, offset, size);
    let received = 0;
    const counted = (async function* () {
      for await (const chunk of readBody(body, opts.signal)) {
        received += chunk.length;
        yield chunk;
      }
    })();
    await writeObject(ctx, ctx.chunkKey(id, offset), counted, ctx.partSize, async () => received > 0, opts.signal);
    if (tails.size >= MAX_TAILS) tails.delete(tails.keys().next().value!);
    tails.set(id, offset + received);
    return offset + received;
  });
}

export async function stagedSize(ctx: S3Store, id: string): Promise<number> {
  checkStagingId(id);
  return (await staged(ctx, id)).size;
}

export async function commitStaging(
  ctx: S3Store,
  id: string,
  expectedSha256: string | undefined,
  opts: CommitStagingOptions = {},
): Promise<PutResult> {
  checkStagingId(id);
  const expected = expectationsOf({ expectedSha256, expectedSize: opts.expectedSize });
  return ctx.queue(id, () => commitQueued(ctx, id, expected, opts));
}

async function commitQueued(ctx: S3Store, id: string, declared: ReturnType<typeof expectationsOf>, opts: CommitStagingOptions): Promise<PutResult> {
  const { blobKey } = ctx;
  let expected = declared;
  const { signal } = opts;
  ctx.tails.delete(id);
  const { size, chain, keys } = await staged(ctx, id);
  // The size is known before reading: refuse a wrong one without reading.
  if (expected.size !== undefined && expected.size !== size) throw new ChecksumMismatchError(expected, { size });
  // Without an expected digest, one pass learns it: the blob's key is its digest, known before the copy starts.
  let hashed: { sha256: string; md5: string; size: number } | undefined;
  if (expected.sha256 === undefined) {
    const first = new Digester();
    for await (const _ of hashedBody(readObjects(ctx, chain, signal), first, expected, signal));
    hashed = first.result();
    expected = { ...expected, sha256: hashed.sha256 };
  }
  const sha256 = expected.sha256!;
  await opts.beforePublish?.(sha256);
  const digester = new Digester();
  const source = hashedBody(readObjects(ctx, chain, signal), digester, expected, signal);
  let created: boolean;
  if ((await headSize(ctx, blobKey(sha256))) !== undefined) {
    if (hashed) {
      await dropStaging(ctx, id, keys);
      return { ...hashed, created: false };
    }
    for await (const _ of source);
    verify(expected, digester.result());
    created = false;
  } else {
    // Hashing and writing in one pass: the blob's multipart upload is
    // completed only if the digest matches.
    created = await writeObject(
      ctx,
      blobKey(sha256),
      source,
      partSizeFor(ctx, size),
      async () => {
        verify(expected, digester.result());
        return (await headSize(ctx, blobKey(sha256))) === undefined;
      },
      signal,
    );
  }
  await dropStaging(ctx, id, keys);
  return { ...digester.result(), created };
}

export async function abortStaging(ctx: S3Store, id: string): Promise<void> {
  checkStagingId(id);
  ctx.tails.delete(id);
  const keys: string[] = [];
  for await (const { key } of listKeys(ctx, ctx.stagingDir(id))) keys.push(key);
  await dropStaging(ctx, id, keys);
}
