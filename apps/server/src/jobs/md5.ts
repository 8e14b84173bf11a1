// MD5 of stored content, computed after the upload (MD5 is slower than
// SHA-256, so it stays off the upload's hot path). One blob at
// a time per process; blobs still without an md5 at start (a restart, or
// another replica's upload) are picked up too. Running twice is harmless:
// the md5 is written only where it is still NULL. The hashing itself runs on
// the md5 worker thread (storage/md5-thread.ts), so the event loop keeps
// serving calls meanwhile.
import type { Database } from "@modelreg/db";
import { createContentDomain } from "../domain/files/index.js";
import type { Logger } from "../logger.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { ThreadMd5 } from "../storage/md5-thread.js";
import { recycle } from "../storage/read-buffers.js";

export interface Md5Worker {
  /** Queues a blob; returns at once. */
  schedule(sha256: string): void;
  /** Queues every blob without an md5. */
  sweep(): Promise<void>;
  /** Resolves when the queue is empty (tests, benchmarks). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function createMd5Worker(deps: { db: Database; store: BlobStore; logger: Logger }): Md5Worker {
  const content = createContentDomain(deps.db, deps.store);
  const queue = new Set<string>();
  let running: Promise<void> | undefined;
  let stopped = false;

  async function one(sha256: string): Promise<void> {
    const stream = await deps.store.get(sha256);
    const hash = new ThreadMd5();
    let md5: string | undefined;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (stopped) {
          stream.destroy();
          return;
        }
        hash.update(chunk);
        recycle(chunk); // copied by the hash: the buffer goes back to the blob reads
        if (hash.backlogged) await hash.drained();
      }
      md5 = await hash.digest();
    } finally {
      if (md5 === undefined) hash.dispose();
    }
    await content.setMd5(sha256, md5);
  }

  function drain(): void {
    if (running || stopped) return;
    running = (async () => {
      while (!stopped && queue.size > 0) {
        const sha256 = queue.values().next().value!;
        queue.delete(sha256);
        try {
          await one(sha256);
        } catch (err) {
          deps.logger.warn({ err, sha256 }, "could not compute the md5 of a blob; it is retried at the next start");
        }
      }
    })().finally(() => {
      running = undefined;
      if (!stopped && queue.size > 0) drain();
    });
  }

  return {
    schedule(sha256) {
      queue.add(sha256);
      drain();
    },
    async sweep() {
      for (const sha256 of await content.withoutMd5(10_000)) queue.add(sha256);
      drain();
    },
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}
