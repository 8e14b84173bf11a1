// put() on S3: with a declared digest straight to the blob's key, completed
// only when the digest matches; without one to a temp key (tmp/<uuid>),
// then copied on the server side to the key the digest names.
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { randomUUID } from "node:crypto";
import { Digester, expectationsOf, hashedBody, verify } from "./blob-store.js";
import { headSize, partSizeFor, type S3Store } from "./s3-context.js";
import { copyObject, writeObject } from "./s3-multipart.js";
import type { BlobBody, PutOptions, PutResult } from "../domain/ports/blob-store.js";

export async function putBlob(ctx: S3Store, body: BlobBody, opts: PutOptions = {}): Promise<PutResult> {
  const { client, bucket, blobKey } = ctx;
  const expected = expectationsOf(opts);
  const digester = new Digester({ md5: "thread" });
  const source = hashedBody(body, digester, expected, opts.signal);
  const size = partSizeFor(ctx, expected.size);

  if (expected.sha256 !== undefined) {
    const sha256 = expected.sha256;
    // Stored already: verify the bytes, upload nothing.
    if ((await headSize(ctx, blobKey(sha256))) !== undefined) {
      for await (const _ of source);
      const got = digester.result();
      verify(expected, got);
      return { ...got, created: false };
    }
    // The key is known: write straight to it, committing only when the
    // digest matches and nobody stored the blob meanwhile.
    const created = await writeObject(
      ctx,
      blobKey(sha256),
      source,
      size,
      async () => {
        verify(expected, digester.result());
        return (await headSize(ctx, blobKey(sha256))) === undefined;
      },
      opts.signal,
    );
    return { ...digester.result(), created };
  }

  // The key is known only at the end: write to a temp key, then copy on
  // the server side. An object cannot be renamed in S3.
  const tmp = `${ctx.root}tmp/${randomUUID()}`;
  try {
    await writeObject(
      ctx,
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
    if ((await headSize(ctx, blobKey(got.sha256))) !== undefined) return { ...got, created: false };
    await copyObject(ctx, tmp, blobKey(got.sha256), got.size);
    return { ...got, created: true };
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: tmp })).catch(() => undefined);
  }
}
