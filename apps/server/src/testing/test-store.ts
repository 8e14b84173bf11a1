// A file-system blob store in a fresh temp directory, removed by remove().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { createFsBlobStore, type FsBlobStoreOptions } from "../storage/fs-blob-store.js";
import { createS3BlobStore } from "../storage/s3-blob-store.js";
import { startTestS3Server } from "../storage/testing/s3-server.js";

export function createTestStore(opts: Omit<FsBlobStoreOptions, "root"> = {}): { store: BlobStore; root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), "modelreg-test-blobs-"));
  return { store: createFsBlobStore({ ...opts, root }), root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A blob store on a real S3-protocol server on loopback (small parts, so multipart paths run). */
export async function createTestS3Store(): Promise<{ store: BlobStore; root: string; remove(): Promise<void> }> {
  const server = await startTestS3Server();
  const client = server.client();
  const store = createS3BlobStore({ client, bucket: server.bucket, prefix: `run-${randomUUID()}`, partSize: 5 * 1024 * 1024 });
  return {
    store,
    root: "",
    async remove() {
      client.destroy();
      await server.stop();
    },
  };
}

/** A fixed URL signing key for in-process tests. */
export const TEST_SIGNING_KEYS = [{ id: "test", secret: Buffer.alloc(32, 7) }];
