// A worker's calls ride out a server restart: a call that fails with
// trouble that passes (UNAVAILABLE, a refused or dropped connection, a
// timeout, overload) is made again after a backoff, for as long as it
// takes, unless the caller's signal ends it, or, for the calls of a task,
// its lease has run out meanwhile (the server will have taken it back).
import { asConnectError, backoffMs, canceled, type RetryPolicy, retryAfterMs, sleep } from "../transfers/retry.js";
import { isTransient } from "./errors.js";

export interface PersistOptions {
  signal?: AbortSignal;
  /** Backoff between tries (attempts are not limited here). */
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">;
  /** Checked before each retry: throws (e.g. the lease is over) to stop trying. */
  check?: () => void;
  /** Told of each transient failure before the wait. */
  onRetry?: (err: unknown, delayMs: number) => void;
}

export const WORKER_BACKOFF = { baseDelayMs: 200, maxDelayMs: 5_000 };

/** `fn()`, again after each transient failure. */
export async function persist<T>(fn: () => Promise<T>, options: PersistOptions): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await fn();
    } catch (err) {
      if (options.signal?.aborted) throw canceled(options.signal);
      if (!isTransient(err)) throw err;
      options.check?.();
      const delayMs = backoffMs(Math.min(failures, 20), { attempts: 0, ...options.policy }, retryAfterMs(asConnectError(err)));
      options.onRetry?.(err, delayMs);
      await sleep(delayMs, options.signal);
      options.check?.();
    }
  }
}
