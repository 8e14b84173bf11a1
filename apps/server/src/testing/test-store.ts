// A file-system blob store in a fresh temp directory, removed by remove().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobStore } from "../storage/blob-store.js";
import { createFsBlobStore } from "../storage/fs-blob-store.js";

export function createTestStore(): { store: BlobStore; root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), "modelreg-test-blobs-"));
  return { store: createFsBlobStore({ root }), root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A fixed URL signing key for in-process tests. */
export const TEST_SIGNING_KEYS = [{ id: "test", secret: Buffer.alloc(32, 7) }];
