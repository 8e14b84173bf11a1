// What a worker tells apart in errors: a handler's own failure (retryable
// or not), the abort it was asked for (stop, cancel, a lost lease, the
// worker shutting down), a lease the server no longer honours, and trouble
// that passes (the server restarting, the network).
import { Code, ConnectError } from "@connectrpc/connect";
import { clientError, errorDetails } from "../errors.js";
import { asConnectError, isNetworkError, isRetryable } from "../transfers/retry.js";

/**
 * Thrown by a handler to fail its task with this message. `retryable`
 * (default true) lets the task run again, from its latest committed
 * checkpoint, while attempts remain; false fails it for good.
 */
export class TaskError extends Error {
  readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "TaskError";
    this.retryable = options.retryable ?? true;
  }
}

/** Why a handler's signal fired. */
export type AbortKind = "stop" | "cancel" | "lease-lost" | "shutdown";

const ABORT_MESSAGES: Record<AbortKind, string> = {
  stop: "a stop was requested: save a checkpoint and return",
  cancel: "the task was cancelled",
  "lease-lost": "the lease on the task was lost: another worker may hold it now",
  shutdown: "the worker is shutting down",
};

/** The reason a handler's signal carries: an AbortError saying why. */
export class TaskAbortError extends Error {
  readonly kind: AbortKind;
  constructor(kind: AbortKind) {
    super(ABORT_MESSAGES[kind]);
    this.name = "AbortError";
    this.kind = kind;
  }
}

/** Whether `err` is an abort (an AbortError, a canceled call, or the signal's own reason) rather than a failure. */
export function isAbortError(err: unknown, signal: AbortSignal): boolean {
  if (signal.aborted && err === signal.reason) return true;
  if ((err as { name?: unknown } | null)?.name === "AbortError") return true;
  return err instanceof ConnectError && err.code === Code.Canceled && signal.aborted;
}

/** Whether the handler's error lets the task run again. */
export function retryableOf(err: unknown): boolean {
  const r = (err as { retryable?: unknown } | null)?.retryable;
  return typeof r === "boolean" ? r : true;
}

/** FAILED_PRECONDITION with reason LEASE_LOST: the attempt is over for this worker. */
export function isLeaseLost(err: unknown): boolean {
  if (!(err instanceof ConnectError) || err.code !== Code.FailedPrecondition) return false;
  return errorDetails(err).reason === "LEASE_LOST";
}

/** The lease given up by the worker itself: no answer from the server for longer than it lasts. */
export function leaseExpiredLocally(ms: number): ConnectError {
  return clientError(`no answer from the server for ${Math.round(ms / 1000)} s, longer than the lease: the task is presumed taken back`, Code.FailedPrecondition, "LEASE_LOST");
}

/** Trouble that passes: the server unreachable or restarting, overloaded, a call timed out. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof ConnectError)) return isNetworkError(err);
  return isRetryable(asConnectError(err)) || isNetworkError(err.cause);
}

/** A message for FailTask: 1-4,000 characters. */
export function failureMessage(err: unknown): string {
  const text = err instanceof ConnectError ? err.rawMessage : err instanceof Error ? err.message : String(err);
  const chars = [...(text.trim() || "the handler failed without a message")];
  return chars.length > 4000 ? `${chars.slice(0, 3999).join("")}…` : chars.join("");
}
