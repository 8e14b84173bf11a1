// sha256 of a local file on a worker thread of its own, so that a file can
// be hashed while the main thread sends it (send-while-hashing.ts): Node's
// sha256 is synchronous, and on the main thread it would hold up the send's
// event loop for every block it hashes. The worker reads the file itself
// (from the OS page cache, which the send's reads fill or use): nothing is
// copied between the threads but the digest.
import { Worker } from "node:worker_threads";
import { ConnectError, Code } from "@connectrpc/connect";
import type { FileDigest } from "./hash.js";

// Plain JavaScript, run with eval: works from the sources, the built package and the CLI's one-file bundle alike.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { openSync, readSync, closeSync } = require("node:fs");
const hash = createHash("sha256");
const fd = openSync(workerData.path, "r");
try {
  const buffer = Buffer.allocUnsafe(4 << 20);
  let size = 0;
  for (;;) {
    const n = readSync(fd, buffer, 0, buffer.length, size);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
    size += n;
  }
  parentPort.postMessage({ sizeBytes: size, sha256: hash.digest("hex") });
} finally {
  closeSync(fd);
}
`;

/** sha256 and size of the file at `path`, computed on a worker thread. */
export function hashFileOnThread(path: string, signal?: AbortSignal): Promise<FileDigest> {
  return new Promise<FileDigest>((resolve, reject) => {
    signal?.throwIfAborted();
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path } });
    let result: FileDigest | undefined;
    const onAbort = () => void worker.terminate();
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.on("message", (m: FileDigest) => {
      result = m;
    });
    let failure: unknown;
    worker.on("error", (err) => {
      failure = err;
    });
    worker.on("exit", (code) => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) reject(signal.reason);
      else if (result) resolve(result);
      else if (failure) reject(failure);
      else reject(new ConnectError(`hashing ${path} stopped (worker thread exit code ${code})`, Code.Internal));
    });
  });
}
