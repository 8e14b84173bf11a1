// MD5 on a worker thread, beside the SHA-256 the caller computes itself.
//
// MD5 costs more CPU than SHA-256 (Node's SHA-256 uses the CPU's SHA
// instructions; MD5 has none), so a put that needs both (an export's archive) would spend most of
// its time hashing on one core. One shared worker thread hashes copies of
// the bytes instead, while the caller's thread hashes, reads and writes.
// Each hash has a ring of SLOTS shared-memory slots of SLOT_BYTES: the
// caller copies bytes into a free slot and posts its number, the worker
// hashes the slot in place and hands it back. Nothing is allocated per
// batch, so memory stays at the ring's size whatever the size of the
// content; a caller with every slot in flight waits (drained()).
import { Worker } from "node:worker_threads";

const SLOT_BYTES = 1 << 20;
const SLOTS = 8;

// Plain JavaScript, run with eval: no loader for TypeScript needed in the worker.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  if (m.op === "open") hashes.set(m.id, { hash: createHash("md5"), ring: new Uint8Array(m.ring) });
  else if (m.op === "update") {
    const h = hashes.get(m.id);
    h.hash.update(h.ring.subarray(m.slot * m.slotBytes, m.slot * m.slotBytes + m.length));
    parentPort.postMessage({ id: m.id, freed: m.slot });
  } else if (m.op === "digest") {
    const h = hashes.get(m.id);
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, md5: h.hash.digest("hex") });
  } else if (m.op === "drop") hashes.delete(m.id);
});
`;

/** Rings of hashes that finished, for the next ones (memory stays what the most concurrent hashes needed). */
const spareRings: Uint8Array[] = [];
const SPARE_RINGS = 4;

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
  readonly #ring = spareRings.pop() ?? new Uint8Array(new SharedArrayBuffer(SLOT_BYTES * SLOTS));
  /** Slots the worker is not reading, in the order they are to be filled. */
  readonly #free: number[] = Array.from({ length: SLOTS }, (_, i) => i);
  /** The slot being filled (the first free one) and how full it is. */
  #fill = 0;
  #drainWaiters: (() => void)[] = [];
  #digest: { resolve(md5: string): void; reject(err: Error): void } | undefined;
  #error: Error | undefined;
  #done = false;

  constructor() {
    this.#worker = shared();
    hashers.set(this.#id, this);
    this.#worker.postMessage({ op: "open", id: this.#id, ring: this.#ring.buffer });
  }

  /**
   * Feeds bytes. Never blocks: with every slot in flight the bytes wait in
   * a copy until slots come back; callers that keep feeding should await
   * drained() when `backlogged`.
   */
  update(chunk: Uint8Array): void {
    if (this.#error) throw this.#error;
    for (let pos = 0; pos < chunk.length; ) {
      if (this.#free.length === 0 || this.#overflow.length > 0) {
        this.#overflow.push(Buffer.from(chunk.subarray(pos)));
        return;
      }
      const slot = this.#free[0]!;
      const n = Math.min(SLOT_BYTES - this.#fill, chunk.length - pos);
      this.#ring.set(chunk.subarray(pos, pos + n), slot * SLOT_BYTES + this.#fill);
      this.#fill += n;
      pos += n;
      if (this.#fill === SLOT_BYTES) this.#post();
    }
  }

  /** Bytes fed while every slot was in flight, copied until slots come back. */
  #overflow: Buffer[] = [];

  /** True while every slot is with the worker; wait for drained() then. */
  get backlogged(): boolean {
    return this.#free.length === 0 || this.#overflow.length > 0;
  }

  drained(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (!this.backlogged) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** The hex digest of everything fed; nothing more may be fed after. */
  async digest(): Promise<string> {
    while (this.#overflow.length > 0 && !this.#error) await this.drained();
    if (this.#error) throw this.#error;
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

  receive(m: { freed?: number; md5?: string }): void {
    if (m.freed !== undefined) {
      this.#free.push(m.freed);
      const waiting = this.#overflow.splice(0);
      for (const b of waiting) this.update(b);
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
    const slot = this.#free.shift()!;
    this.#worker.postMessage({ op: "update", id: this.#id, slot, slotBytes: SLOT_BYTES, length: this.#fill });
    this.#fill = 0;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    hashers.delete(this.#id);
    // The worker reads messages in order: whatever it still hashes from this
    // ring belongs to this (finished or dropped) hash, never to the next.
    if (spareRings.length < SPARE_RINGS) spareRings.push(this.#ring);
  }
}
