// MD5 on a worker thread, beside the SHA-256 the caller computes itself.
//
// MD5 costs here more than twice what SHA-256 does (1.8 vs 0.8 s of CPU per
// GiB), so a put that needs both (an export's archive) would spend most of
// its time hashing on one core. One shared worker thread hashes copies of
// the bytes instead, while the caller's thread hashes, reads and writes.
// The copies travel in 1 MiB batches whose memory is handed over, not
// cloned; a caller that gets more than BACKLOG_BYTES ahead of the worker
// waits (drained()), so memory stays bounded whatever the size.
import { Worker } from "node:worker_threads";

const BATCH_BYTES = 1 << 20;
const BACKLOG_BYTES = 16 << 20;

// Plain JavaScript, run with eval: no loader for TypeScript needed in the worker.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  if (m.op === "update") {
    let h = hashes.get(m.id);
    if (!h) hashes.set(m.id, (h = createHash("md5")));
    h.update(new Uint8Array(m.buf, 0, m.length));
    parentPort.postMessage({ id: m.id, acked: m.length });
  } else if (m.op === "digest") {
    const h = hashes.get(m.id) ?? createHash("md5");
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, md5: h.digest("hex") });
  } else if (m.op === "drop") hashes.delete(m.id);
});
`;

let worker: Worker | undefined;
let nextId = 1;
const hashers = new Map<number, ThreadMd5>();

function shared(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  // It never keeps the process alive: a put waiting on it has a reason of its own (a server, a test).
  w.unref();
  w.on("message", (m: { id: number; acked?: number; md5?: string }) => hashers.get(m.id)?.receive(m));
  w.on("error", (err) => fail(w, err));
  w.on("exit", (code) => fail(w, new Error(`the md5 worker thread exited (code ${code})`)));
  worker = w;
  return w;
}

function fail(w: Worker, err: Error): void {
  if (worker === w) worker = undefined;
  for (const h of [...hashers.values()]) h.fail(err);
}

/** One MD5 computed on the shared worker thread. */
export class ThreadMd5 {
  readonly #id = nextId++;
  #worker: Worker;
  #batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
  #fill = 0;
  #inFlight = 0;
  #drainWaiters: (() => void)[] = [];
  #digest: { resolve(md5: string): void; reject(err: Error): void } | undefined;
  #error: Error | undefined;
  #done = false;

  constructor() {
    this.#worker = shared();
    hashers.set(this.#id, this);
  }

  update(chunk: Uint8Array): void {
    if (this.#error) throw this.#error;
    for (let pos = 0; pos < chunk.length; ) {
      const n = Math.min(BATCH_BYTES - this.#fill, chunk.length - pos);
      this.#batch.set(chunk.subarray(pos, pos + n), this.#fill);
      this.#fill += n;
      pos += n;
      if (this.#fill === BATCH_BYTES) this.#post();
    }
  }

  /** True while the worker is more than BACKLOG_BYTES behind; wait for drained() then. */
  get backlogged(): boolean {
    return this.#inFlight > BACKLOG_BYTES;
  }

  drained(): Promise<void> {
    if (!this.backlogged || this.#error) return this.#error ? Promise.reject(this.#error) : Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** The hex digest of everything fed; nothing more may be fed after. */
  digest(): Promise<string> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#fill > 0) this.#post();
    return new Promise((resolve, reject) => {
      this.#digest = { resolve, reject };
      this.#worker.postMessage({ op: "digest", id: this.#id });
    });
  }

  /** Drops the hash (the put failed); safe to call at any time. */
  dispose(): void {
    if (this.#done) return;
    this.#finish();
    this.#worker.postMessage({ op: "drop", id: this.#id });
  }

  receive(m: { acked?: number; md5?: string }): void {
    if (m.acked !== undefined) {
      this.#inFlight -= m.acked;
      if (!this.backlogged) for (const w of this.#drainWaiters.splice(0)) w();
    }
    if (m.md5 !== undefined) {
      this.#finish();
      this.#digest?.resolve(m.md5);
    }
  }

  fail(err: Error): void {
    this.#error = err;
    this.#finish();
    this.#digest?.reject(err);
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  #post(): void {
    const buf = this.#batch.buffer;
    const length = this.#fill;
    this.#worker.postMessage({ op: "update", id: this.#id, buf, length }, [buf]);
    this.#inFlight += length;
    this.#batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.#fill = 0;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    hashers.delete(this.#id);
  }
}
