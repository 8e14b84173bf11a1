// Limits on callers, as the domain needs them: slots of requests in flight
// per key (auth/rate-limit.ts implements it), and the error a caller over a
// limit gets. Like every domain error it never imports Connect: the error
// interceptor maps it to RESOURCE_EXHAUSTED, the plain-HTTP routes to 429.
import { DomainError } from "../shared/errors.js";

export type AcquireResult = { ok: true; release(): void } | { ok: false };

export interface ConcurrencyLimiter {
  /** Takes a slot of `key`; call release() when the request ends, however it ends. */
  acquire(key: string): AcquireResult;
  /** Slots of `key` in use now. */
  inFlight(key: string): number;
}

/** TOO_MANY_AUTH_FAILURES: a peer or a key id failed to authenticate too often (auth/auth-limits.ts). */
export type ResourceExhaustedReason = "RATE_LIMITED" | "TOO_MANY_CONCURRENT" | "TOO_MANY_AUTH_FAILURES";

/**
 * A caller went over a limit. `retryAfterMs` is when a retry can succeed (for
 * RATE_LIMITED exactly, for TOO_MANY_CONCURRENT a hint: it depends on when a
 * call in flight ends).
 */
export class ResourceExhaustedError extends DomainError {
  constructor(
    readonly reason: ResourceExhaustedReason,
    message: string,
    readonly retryAfterMs: number,
    metadata: Record<string, string> = {},
  ) {
    super(message, { ...metadata, retry_after_ms: String(retryAfterMs) });
  }

  /**
   * `subject` names who was limited, e.g. "access key AK7F...", never a
   * secret: the message goes to the client and into logs.
   */
  static rateLimited(subject: string, ratePerSecond: number, retryAfterMs: number): ResourceExhaustedError {
    const ms = wholeMs(retryAfterMs);
    return new ResourceExhaustedError("RATE_LIMITED", `${subject} exceeded ${ratePerSecond} requests/s; retry after ${ms} ms`, ms, {
      limit: String(ratePerSecond),
    });
  }

  /** The default hint is a guess: the limiter cannot know when a call ends. */
  static tooManyConcurrent(subject: string, max: number, retryAfterMs = 1000): ResourceExhaustedError {
    const ms = wholeMs(retryAfterMs);
    return new ResourceExhaustedError(
      "TOO_MANY_CONCURRENT",
      `${subject} already has ${max} requests in flight, the most allowed; retry after ${ms} ms or once one of them finishes`,
      ms,
      { limit: String(max) },
    );
  }
}

// Rounded up: retrying a little late succeeds, a little early does not.
function wholeMs(ms: number): number {
  return Math.max(0, Math.ceil(ms));
}
