// When a failed transfer attempt is worth another try, and how long to wait
// first. A dropped connection, a stalled one (inactivity timeout), 503 and
// 429 are retried with exponential backoff; everything else is final.
import { Code, ConnectError } from "@connectrpc/connect";
import { RetryInfoSchema } from "@modelreg/proto";

export interface RetryPolicy {
  /** Attempts in a row without progress before giving up (default 5). */
  attempts: number;
  /** First backoff (default 500 ms); doubles each time, with jitter (at most 7.5 s of waiting over the default 5 attempts). */
  baseDelayMs: number;
  /** Longest backoff (default 10 s). */
  maxDelayMs: number;
  /** Told before each retry: why, which retry in a row, and the wait (for logs). */
  onRetry?: (retry: { error: ConnectError; attempt: number; delayMs: number }) => void;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 };

/** Node's codes for a connection that broke or never came up. */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_STREAM_CANCEL",
  "UND_ERR_SOCKET",
]);

function errCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/** Whether `err` (or its cause chain) is a broken or refused connection. */
export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = errCode(e);
    if (code && NETWORK_CODES.has(code)) return true;
    const msg = (e as { message?: unknown }).message;
    if (typeof msg === "string" && /socket hang up|aborted|premature close|stream closed|other side closed/i.test(msg)) return true;
  }
  return false;
}

/**
 * The error as a ConnectError: ConnectErrors as they are, a broken
 * connection as Unavailable (with the original as cause), anything else
 * via ConnectError.from.
 */
export function asConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (isNetworkError(err)) return new ConnectError(`connection failed: ${(err as Error).message}`, Code.Unavailable, undefined, undefined, err);
  return ConnectError.from(err);
}

/** Whether another attempt may succeed: connection trouble, overload, a stalled transfer. */
export function isRetryable(err: ConnectError): boolean {
  switch (err.code) {
    case Code.Unavailable:
    case Code.ResourceExhausted:
    case Code.DeadlineExceeded:
      return true;
    // HTTP/2 streams that die with their connection surface as these.
    case Code.Internal:
    case Code.Unknown:
    case Code.Canceled:
      return isNetworkError(err.cause) || isNetworkError(err);
    default:
      return false;
  }
}

/** The server's hint (Retry-After, google.rpc.RetryInfo), in ms, if any. */
export function retryAfterMs(err: ConnectError): number | undefined {
  const header = err.metadata.get("retry-after");
  if (header && /^\d+$/.test(header.trim())) return Number(header) * 1000;
  const info = err.findDetails(RetryInfoSchema)[0];
  if (info?.retryDelay) return Number(info.retryDelay.seconds) * 1000 + Math.floor(info.retryDelay.nanos / 1e6);
  return undefined;
}

/** The wait before retry number `attempt` (1-based): the server's hint, else exponential with jitter. */
export function backoffMs(attempt: number, policy: RetryPolicy, hintMs?: number): number {
  if (hintMs !== undefined) return Math.min(hintMs, policy.maxDelayMs * 6);
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

/** Waits `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(canceled(signal));
    const onAbort = () => {
      clearTimeout(t);
      reject(canceled(signal!));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The error of a transfer the caller aborted. */
export function canceled(signal: AbortSignal): ConnectError {
  const reason: unknown = signal.reason;
  if (reason instanceof ConnectError) return reason;
  return new ConnectError(`transfer aborted${reason instanceof Error ? `: ${reason.message}` : ""}`, Code.Canceled, undefined, undefined, reason);
}

export interface ResumeOptions {
  policy: RetryPolicy;
  signal: AbortSignal | undefined;
  /** A number that grows when an attempt made progress (bytes committed or written); resets the attempt count. */
  progress(): number;
}

/**
 * Runs `attempt(retry)` (retry = 0, 1, ...: how many tries came before; a
 * retry re-reads where to resume) until it succeeds, retrying retryable failures with
 * backoff. At most `policy.attempts` failures in a row without progress;
 * the caller's abort is never retried.
 */
export async function withResume<T>(attempt: (retry: number) => Promise<T>, options: ResumeOptions): Promise<T> {
  let failures = 0;
  let retries = 0;
  let mark = options.progress();
  for (;;) {
    try {
      return await attempt(retries);
    } catch (raw) {
      if (options.signal?.aborted) throw canceled(options.signal);
      // Local trouble (a full disk, a file that went away) is not the network's: as it is.
      if (!(raw instanceof ConnectError) && !isNetworkError(raw)) throw raw;
      const err = asConnectError(raw);
      const now = options.progress();
      if (now > mark) failures = 0;
      mark = now;
      failures++;
      if (!isRetryable(err) || failures >= options.policy.attempts) throw err;
      const delayMs = backoffMs(failures, options.policy, retryAfterMs(err));
      options.policy.onRetry?.({ error: err, attempt: failures, delayMs });
      await sleep(delayMs, options.signal);
      retries++;
    }
  }
}
