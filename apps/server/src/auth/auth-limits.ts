// Limits on failed authentication, so that whoever knows a key id (ids are
// not secret) or can open connections cannot make the server work for them
// without a valid key:
//
// - failures per peer address and per key id are token buckets (refilled
//   from elapsed time, see rate-limit.ts); once one is empty, the next
//   failure is answered RESOURCE_EXHAUSTED with a retry hint, and a peer
//   with no failures left is refused before anything costly: looking up a
//   key id the server does not know to exist, or a slow check;
// - checks against hashes of the earlier scheme (scrypt, auth/keys.ts) run
//   a few at a time with a short queue: they run on libuv's thread pool,
//   which file reads share, so a flood of them must not take it over.
//
// A good secret of a key known to exist (SHA-256, the cheap check) is let
// in whatever the budgets: guessing at a key id does not lock its owner out.
import { ResourceExhaustedError } from "../domain/ports/limiter.js";
import { createRateLimiter, type RateLimiter } from "./rate-limit.js";

export interface FailureBudget {
  /** Failures forgiven per second, continuously. */
  ratePerSecond: number;
  /** Failures allowed at once after a quiet spell. */
  burst: number;
}

export interface AuthLimitsOptions {
  /** null: no limit per peer (all callers share one address behind some proxies). */
  perPeer?: FailureBudget | null;
  perKey?: FailureBudget;
  /** Slow (scrypt) checks running at once, and waiting beyond those. */
  slowChecks?: { running: number; waiting: number };
  /** Milliseconds, monotonic; injectable for tests. */
  now?: () => number;
}

export const DEFAULT_AUTH_LIMITS = {
  perPeer: { ratePerSecond: 5, burst: 50 },
  perKey: { ratePerSecond: 1, burst: 20 },
  slowChecks: { running: 1, waiting: 8 },
} as const;

/** The per-peer budget of a burst (AUTH_FAILURES_PER_PEER): refilled at a tenth of it a second; 0 = none; undefined = the default. */
export function failureBudget(burst: number | undefined): FailureBudget | null | undefined {
  if (burst === undefined) return undefined;
  return burst === 0 ? null : { ratePerSecond: burst / 10, burst };
}

export interface AuthLimits {
  /** Throws ResourceExhaustedError when the peer (if known) has no failures left. */
  checkPeer(peer: string | undefined): void;
  /** Throws ResourceExhaustedError when the key id has no failures left. */
  checkKey(keyId: string): void;
  /** Counts a failure of the peer and the key id; the error to answer with instead of the refusal when one of them is over its budget. */
  failed(peer: string | undefined, keyId: string): ResourceExhaustedError | undefined;
  /** Runs a slow check within the bound on slow checks; throws ResourceExhaustedError when too many wait already. */
  slow<T>(check: () => Promise<T>): Promise<T>;
}

export function createAuthLimits(opts: AuthLimitsOptions = {}): AuthLimits {
  const perPeer = opts.perPeer === undefined ? DEFAULT_AUTH_LIMITS.perPeer : opts.perPeer;
  const perKey = opts.perKey ?? DEFAULT_AUTH_LIMITS.perKey;
  const peers = perPeer && createRateLimiter({ ...perPeer, now: opts.now });
  const keys = createRateLimiter({ ...perKey, now: opts.now });
  const slow = createGate(opts.slowChecks ?? DEFAULT_AUTH_LIMITS.slowChecks);
  const peerError = (peer: string, retryAfterMs: number) => tooMany(`from ${peer}`, perPeer!, retryAfterMs);
  const keyError = (keyId: string, retryAfterMs: number) => tooMany(`for access key ${keyId}`, perKey, retryAfterMs);
  const refuse = (limiter: RateLimiter, key: string, error: (key: string, ms: number) => ResourceExhaustedError) => {
    const r = limiter.peek(key);
    if (!r.ok) throw error(key, r.retryAfterMs);
  };

  return {
    checkPeer(peer) {
      if (peer && peers) refuse(peers, peer, peerError);
    },
    checkKey(keyId) {
      refuse(keys, keyId, keyError);
    },
    failed(peer, keyId) {
      // Both buckets are charged, whichever refuses.
      const p = peer && peers ? peers.take(peer) : { ok: true as const };
      const k = keys.take(keyId);
      if (!p.ok) return peerError(peer!, p.retryAfterMs);
      if (!k.ok) return keyError(keyId, k.retryAfterMs);
      return undefined;
    },
    slow: (check) => slow(check),
  };
}

function tooMany(subject: string, budget: FailureBudget, retryAfterMs: number): ResourceExhaustedError {
  const ms = Math.max(1, Math.ceil(retryAfterMs));
  return new ResourceExhaustedError(
    "TOO_MANY_AUTH_FAILURES",
    `too many failed authentications ${subject} (at most ${budget.burst} at once, then ${budget.ratePerSecond} a second); retry after ${ms} ms with a valid access key`,
    ms,
    { limit: String(budget.ratePerSecond), burst: String(budget.burst) },
  );
}

/** Runs at most `running` tasks at once, queues up to `waiting` more, and refuses beyond that. */
function createGate(opts: { running: number; waiting: number }): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (running >= opts.running) {
      if (queue.length >= opts.waiting)
        throw new ResourceExhaustedError(
          "TOO_MANY_CONCURRENT",
          `the server is checking ${running + queue.length} access keys of the earlier hash scheme already, the most it does at once; retry after 1000 ms`,
          1000,
          { limit: String(opts.running + opts.waiting) },
        );
      // A finishing task hands its slot over directly (running stays the same).
      await new Promise<void>((resolve) => queue.push(resolve));
    } else running++;
    try {
      return await task();
    } finally {
      if (queue.length > 0) queue.shift()!();
      else running--;
    }
  };
}
