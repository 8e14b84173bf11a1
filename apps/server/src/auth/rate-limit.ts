// Per-key request limits, in memory per server process (so with N processes
// a key gets up to N times the rate). Nothing here runs on a timer: a bucket
// is refilled from the elapsed time when it is next used, and memory is
// bounded by evicting the least recently used bucket.

import type { ConcurrencyLimiter } from "../domain/ports/limiter.js";

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiter {
  /** Spends one token of `key`'s bucket, or says when one will be there. */
  take(key: string): TakeResult;
  /** What take() would answer now, without spending anything. */
  peek(key: string): TakeResult;
  /** Buckets held now (at most maxKeys). */
  readonly size: number;
}

export interface RateLimiterOptions {
  /** Sustained rate; tokens come back continuously at this rate. */
  ratePerSecond: number;
  /** Bucket size: how many requests may arrive at once after a quiet spell. */
  burst: number;
  /** Milliseconds, monotonic; injectable for tests. */
  now?: () => number;
  /** Most buckets kept; default 100 000. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const { ratePerSecond, burst } = opts;
  // performance.now, not Date.now: a wall clock stepped back would stall
  // refills, stepped forward would hand out a full burst.
  const now = opts.now ?? (() => performance.now());
  const maxKeys = opts.maxKeys ?? 100_000;
  if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be greater than 0, got ${ratePerSecond}`);
  if (!(Number.isFinite(burst) && burst >= 1)) throw new RangeError(`burst must be at least 1, got ${burst}`);
  if (!(Number.isSafeInteger(maxKeys) && maxKeys >= 1)) throw new RangeError(`maxKeys must be a whole number of at least 1, got ${maxKeys}`);
  const perMs = ratePerSecond / 1000;
  // Map keeps insertion order; re-inserting on every use makes the first
  // entry the least recently used one.
  const buckets = new Map<string, Bucket>();

  return {
    take(key) {
      const t = now();
      let b = buckets.get(key);
      if (b) {
        buckets.delete(key);
        // max(0, …): an injected clock that goes back must not drain tokens.
        b.tokens = Math.min(burst, b.tokens + Math.max(0, t - b.at) * perMs);
        b.at = t;
      } else {
        b = { tokens: burst, at: t };
        // Evicting the least recently used bucket forgets at most what that
        // key spent: it comes back full. By the time maxKeys other keys have
        // been seen since its last request it has usually refilled anyway.
        if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!);
      }
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true };
      }
      // Rounded up, and at least 1 ms, so a retry at exactly that time succeeds.
      return { ok: false, retryAfterMs: Math.max(1, Math.ceil((1 - b.tokens) / perMs)) };
    },
    peek(key) {
      const b = buckets.get(key);
      if (!b) return { ok: true };
      const tokens = Math.min(burst, b.tokens + Math.max(0, now() - b.at) * perMs);
      return tokens >= 1 ? { ok: true } : { ok: false, retryAfterMs: Math.max(1, Math.ceil((1 - tokens) / perMs)) };
    },
    get size() {
      return buckets.size;
    },
  };
}

export function createConcurrencyLimiter(opts: { max: number }): ConcurrencyLimiter {
  const { max } = opts;
  if (!(Number.isSafeInteger(max) && max >= 1)) throw new RangeError(`max must be a whole number of at least 1, got ${max}`);
  // Only keys with requests in flight have an entry, so the map is bounded
  // by the requests in flight and needs no eviction.
  const counts = new Map<string, number>();

  return {
    acquire(key) {
      const n = counts.get(key) ?? 0;
      if (n >= max) return { ok: false };
      counts.set(key, n + 1);
      let released = false;
      return {
        ok: true,
        release() {
          // Idempotent: a finally block and an abort handler may both call
          // it, and a second call must not free someone else's slot.
          if (released) return;
          released = true;
          const left = (counts.get(key) ?? 1) - 1;
          if (left <= 0) counts.delete(key);
          else counts.set(key, left);
        },
      };
    },
    inFlight(key) {
      return counts.get(key) ?? 0;
    },
  };
}
