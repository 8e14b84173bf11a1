// One claimed task, start to end: the reporter beats while the handler
// runs; when the handler returns or throws, what it gathered is flushed and
// the attempt is ended the way its outcome says (decideEnding), unless the
// lease was lost, when another worker may hold the task and nothing more
// is sent.
import { type ClaimTaskResponse, TaskState } from "@modelreg/proto";
import { type AbortKind, failureMessage, isAbortError, retryableOf } from "./errors.js";
import { createTaskContext, stageDirectory } from "./task-context.js";
import { createTaskRun, type TaskRun, type WorkerDeps } from "./task-run.js";
import type { TaskHandler, TaskResult } from "./types.js";

export type Outcome = { returned: TaskResult | undefined } | { error: unknown };

export type Ending =
  | { kind: "none" }
  | { kind: "complete"; state: TaskState.SUCCEEDED | TaskState.STOPPED; result?: TaskResult }
  | { kind: "fail"; message: string; retryable: boolean }
  | { kind: "release"; reason: string };

/** What the attempt was when the handler settled. */
export interface Settled {
  /** Why the handler's signal had fired by then (if it had). */
  why: AbortKind | undefined;
  cancelRequested: boolean;
  leaseLost: boolean;
  signal: AbortSignal;
}

/**
 * How an attempt ends: nothing after a lost lease; a cancel ends it (the
 * server makes it CANCELLED whatever is sent); a handler's own error fails
 * it (retryable unless it says otherwise); returning (or an abort) after a
 * stop request acknowledges the stop; after the worker's shutdown the task
 * is released (back to the queue, the attempt not counted); otherwise it
 * SUCCEEDED.
 */
export function decideEnding(outcome: Outcome, at: Settled): Ending {
  if (at.leaseLost) return { kind: "none" };
  if (at.cancelRequested) return { kind: "fail", message: "cancelled: the worker ended its attempt", retryable: false };
  const aborted = "error" in outcome && isAbortError(outcome.error, at.signal);
  if ("error" in outcome && !aborted) return { kind: "fail", message: failureMessage(outcome.error), retryable: retryableOf(outcome.error) };
  if (at.why === "stop") return { kind: "complete", state: TaskState.STOPPED };
  if (at.why === "shutdown") return { kind: "release", reason: "the worker shut down before the task finished" };
  if ("error" in outcome) return { kind: "fail", message: failureMessage(outcome.error), retryable: true };
  return { kind: "complete", state: TaskState.SUCCEEDED, ...(outcome.returned ? { result: outcome.returned } : {}) };
}

/** Sends the ending: outputs staged and uploaded first, the heartbeat stopped just before the final call. */
async function finish(deps: WorkerDeps, run: TaskRun, ending: Ending): Promise<void> {
  if (ending.kind === "none") return;
  const leaseToken = run.leaseToken;
  if (ending.kind === "release") {
    await run.reporter.close();
    await run.call((signal) => deps.workers.releaseTask({ leaseToken, reason: ending.reason }, { signal }));
    return;
  }
  if (ending.kind === "fail") {
    await run.reporter.close();
    await run.call((signal) => deps.workers.failTask({ leaseToken, message: ending.message, retryable: ending.retryable }, { signal }));
    return;
  }
  const r = ending.result ?? {};
  const outputs = r.outputDir !== undefined ? await stageDirectory(deps, run, r.outputDir) : [];
  await run.reporter.close();
  const request = {
    leaseToken,
    state: ending.state,
    ...(r.result ? { result: r.result } : {}),
    outputFiles: outputs.map((f) => ({ path: f.path, sizeBytes: f.sizeBytes, sha256: f.sha256 })),
    metrics: r.metrics ?? {},
  };
  await run.call((signal) => deps.workers.completeTask(request, { signal }));
}

export interface RunTaskOptions {
  handler: TaskHandler;
  onError: (err: unknown, what: string) => void;
  /** Told of the run while it lasts (the worker aborts it on shutdown); returns the undo. */
  track: (run: TaskRun) => () => void;
}

export async function runTask(deps: WorkerDeps, claim: ClaimTaskResponse, options: RunTaskOptions): Promise<void> {
  const run = createTaskRun(deps, claim, options.onError);
  const untrack = options.track(run);
  try {
    run.reporter.start();
    const ctx = createTaskContext(deps, run);
    let outcome: Outcome;
    try {
      outcome = { returned: (await options.handler(ctx)) ?? undefined };
    } catch (error) {
      outcome = { error };
    }
    const settled = { why: run.why, signal: run.signal };
    if ("error" in outcome && !isAbortError(outcome.error, run.signal)) {
      const e = outcome.error;
      ctx.log(e instanceof Error && e.stack ? e.stack : String(e), "stderr");
    }
    await run.reporter.flush();
    const ending = decideEnding(outcome, { ...settled, cancelRequested: run.cancelRequested, leaseLost: run.leaseLost });
    await finish(deps, run, ending).catch(async (err: unknown) => {
      if (run.leaseLost) return;
      options.onError(err, `task ${run.task.name}: could not end the attempt`);
      // Not left RUNNING until its lease runs out: handed back to the queue.
      if (ending.kind === "complete") await failQuietly(deps, run, `the worker could not complete the task: ${failureMessage(err)}`, options.onError);
    });
  } finally {
    await run.reporter.close();
    untrack();
  }
}

async function failQuietly(deps: WorkerDeps, run: TaskRun, message: string, onError: RunTaskOptions["onError"]): Promise<void> {
  await run
    .call((signal) => deps.workers.failTask({ leaseToken: run.leaseToken, message: failureMessage(message), retryable: true }, { signal }))
    .catch((err: unknown) => onError(err, `task ${run.task.name}: could not hand it back either`));
}
