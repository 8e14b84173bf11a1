// Errors of the auth layer. Like the domain errors they extend, they never
// import Connect: the error interceptor maps ResourceExhaustedError to
// RESOURCE_EXHAUSTED, and the plain-HTTP download handler maps
// SignedUrlError to a status of its own.
import { DomainError } from "../domain/errors.js";

export type ResourceExhaustedReason = "RATE_LIMITED" | "TOO_MANY_CONCURRENT";

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
   * `subject` names who was limited, e.g. "access key AK7F…" — never a
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

export type SignedUrlReason = "MISSING" | "MALFORMED" | "EXPIRED" | "BAD_SIGNATURE" | "UNKNOWN_KEY";

// One fixed message per reason: whoever holds a forged or damaged URL learns
// the reason and nothing about which parameter or which byte was wrong.
const SIGNED_URL_MESSAGES: Record<SignedUrlReason, string> = {
  MISSING: "the URL is not signed; request a new download URL",
  MALFORMED: "the URL's signature parameters are malformed; use the URL exactly as it was issued",
  EXPIRED: "the URL has expired; request a new download URL",
  BAD_SIGNATURE: "the URL's signature does not match; use the URL exactly as it was issued, with the same HTTP method",
  UNKNOWN_KEY: "the URL was signed with a key this server no longer accepts; request a new download URL",
};

/** A signed URL failed verification; see ./signed-urls.ts. */
export class SignedUrlError extends DomainError {
  constructor(readonly reason: SignedUrlReason) {
    super(SIGNED_URL_MESSAGES[reason]);
  }
}
