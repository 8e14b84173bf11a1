/// <reference path="./s3rver.d.ts" />
// A real S3-protocol server for tests: s3rver on 127.0.0.1, a free port, and
// a temp directory removed on stop. Loopback only.
//
// @20minutes/s3rver rather than the original s3rver (last released 2021): it
// is the maintained fork, and the only pure-JS one that also has
// UploadPartCopy. Two of its gaps shape the store, not just the tests: it
// has no ListParts, ListMultipartUploads or AbortMultipartUpload (so staged
// uploads are made of plain objects, see ../s3-blob-store.ts), and its
// ListObjectsV2 continuation tokens use DES, which OpenSSL 3 (Node 17+)
// refuses (so the store lists with v1 and a marker). Signatures are not
// checked (allowMismatchedSignatures): it computes the canonical path of
// bucket-level requests as "/bucket" where the SDK signs "/bucket/", so
// ListObjects and DeleteObjects would fail with SignatureDoesNotMatch.
import S3rver from "@20minutes/s3rver";
import { S3Client } from "@aws-sdk/client-s3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A client for this server; destroy it when done. */
  client(): S3Client;
  stop(): Promise<void>;
}

export async function startTestS3Server(bucket = "modelreg-test"): Promise<TestS3Server> {
  const directory = await mkdtemp(join(tmpdir(), "modelreg-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver's only account.
  const accessKeyId = "S3RVER";
  const secretAccessKey = "S3RVER";
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    client: () =>
      new S3Client({
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey },
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      }),
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
