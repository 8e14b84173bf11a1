// One attempt as the worker holds it: the claim, its lease, the reporter,
// and two signals. The handler's signal fires on a stop or cancel request,
// a lost lease, or the worker's shutdown; the lease signal only when the
// lease is lost, and ends the worker's own calls for the task (saving a
// checkpoint after a stop request must still work). Every call of the
// attempt goes through call(): retried while the server is out of reach
// and the lease may still stand, and a LEASE_LOST answer ends the attempt.
import type { Client } from "@connectrpc/connect";
import type { ClaimTaskResponse, Task, TaskWorkerService } from "@modelreg/proto";
import type { TransferContext } from "../transfers/context.js";
import { type AbortKind, isLeaseLost, TaskAbortError } from "./errors.js";
import { createLeaseClock, type LeaseClock } from "./lease-clock.js";
import { persist, WORKER_BACKOFF } from "./persist.js";
import { createReporter, type Reporter } from "./reporter.js";

/** What the worker runtime works with. */
export interface WorkerDeps {
  workers: Client<typeof TaskWorkerService>;
  transfers: TransferContext;
  /** The client's workspace (short names resolve in it). */
  workspace: string;
  /** The client's access key, `<key_id>.<secret>`, added to the handler's parameter block. */
  accessKey: string | undefined;
}

/** The report interval when the server names none. */
const DEFAULT_INTERVAL_MS = 5_000;

export interface TaskRun {
  readonly claim: ClaimTaskResponse;
  readonly task: Task;
  readonly leaseToken: string;
  readonly lease: LeaseClock;
  readonly reporter: Reporter;
  /** The handler's signal. */
  readonly signal: AbortSignal;
  /** Ends the attempt's own calls: the lease is lost. */
  readonly leaseSignal: AbortSignal;
  /** Why the handler's signal fired first, if it did. */
  readonly why: AbortKind | undefined;
  readonly stopRequested: boolean;
  readonly cancelRequested: boolean;
  readonly leaseLost: boolean;
  /** Fires the handler's signal (the first reason sticks). */
  abort(kind: AbortKind): void;
  /** `fn` as a call of this attempt (see above). */
  call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export function createTaskRun(deps: WorkerDeps, claim: ClaimTaskResponse, onError: (err: unknown, what: string) => void): TaskRun {
  const handler = new AbortController();
  const lease = new AbortController();
  const task = claim.task!;
  const clock = createLeaseClock(claim.leaseExpireTime, claim.reportIntervalMs || DEFAULT_INTERVAL_MS);
  const flags = { why: undefined as AbortKind | undefined, stop: false, cancel: false, leaseLost: false };
  const abort = (kind: AbortKind) => {
    flags.why ??= kind;
    if (!handler.signal.aborted) handler.abort(new TaskAbortError(kind));
  };
  const loseLease = (err: unknown) => {
    if (flags.leaseLost) return;
    flags.leaseLost = true;
    abort("lease-lost");
    lease.abort(new TaskAbortError("lease-lost"));
    onError(err, `task ${task.name}: lease lost`);
  };
  const reporter = createReporter({
    workers: deps.workers,
    leaseToken: claim.leaseToken,
    lease: clock,
    signal: lease.signal,
    onReply: (reply) => {
      if (reply.stopRequested && !flags.stop) {
        flags.stop = true;
        abort("stop");
      }
      if (reply.cancelRequested && !flags.cancel) {
        flags.cancel = true;
        abort("cancel");
      }
    },
    onLeaseLost: loseLease,
    onError: (err) => onError(err, `task ${task.name}: a report was refused; its lines and points are dropped`),
    onRetry: (err, delayMs) => onError(err, `task ${task.name}: a report failed; retrying in ${delayMs} ms`),
  });
  return {
    claim,
    task,
    leaseToken: claim.leaseToken,
    lease: clock,
    reporter,
    signal: handler.signal,
    leaseSignal: lease.signal,
    get why() {
      return flags.why;
    },
    get stopRequested() {
      return flags.stop;
    },
    get cancelRequested() {
      return flags.cancel;
    },
    get leaseLost() {
      return flags.leaseLost;
    },
    abort,
    async call(fn) {
      try {
        return await persist(() => fn(lease.signal), {
          signal: lease.signal,
          policy: WORKER_BACKOFF,
          check: () => clock.check(),
          onRetry: (err, delayMs) => onError(err, `task ${task.name}: retrying in ${delayMs} ms`),
        });
      } catch (err) {
        if (isLeaseLost(err)) loseLease(err);
        throw err;
      }
    },
  };
}
