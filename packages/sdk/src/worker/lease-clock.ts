// How long this worker may assume it still holds a task while the server
// does not answer. Each answer that extends the lease says until when; the
// worker counts that span from when it sent the call (its own clock, so a
// skewed clock on either side does not matter beyond the span itself).
// Past it, plus one report interval of grace, trying on is pointless: the
// server will have given the task to another worker.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { leaseExpiredLocally } from "./errors.js";

export interface LeaseClock {
  /** An answer that extended the lease to `expire` came for a call sent at `sentAt` (Date.now()). */
  renew(expire: Timestamp | undefined, sentAt: number): void;
  /** The report interval the server asks for now. */
  setInterval(ms: number): void;
  readonly intervalMs: number;
  /** Throws LEASE_LOST when the lease has surely run out without an answer. */
  check(): void;
}

export function createLeaseClock(expire: Timestamp | undefined, intervalMs: number, now = Date.now()): LeaseClock {
  let interval = intervalMs;
  let lastContact = now;
  let deadline = now;
  const clock: LeaseClock = {
    renew(exp, sentAt) {
      const span = exp ? timestampMs(exp) - Date.now() : Number.NaN;
      // Never less than two intervals: a clock far ahead of the server's must not end leases early.
      deadline = sentAt + Math.max(Number.isFinite(span) ? span : 0, 2 * interval);
      lastContact = sentAt;
    },
    setInterval(ms) {
      if (ms > 0) interval = ms;
    },
    get intervalMs() {
      return interval;
    },
    check() {
      const t = Date.now();
      if (t > deadline + interval) throw leaseExpiredLocally(t - lastContact);
    },
  };
  clock.renew(expire, now);
  return clock;
}
