// How an attempt ends from the worker's side: CompleteTask (SUCCEEDED, or
// STOPPED to acknowledge a stop, which uses up no attempt), FailTask
// (FAILED, or QUEUED again when retryable with attempts left) and
// ReleaseTask (QUEUED again, the attempt not counted). A cancel asked
// meanwhile wins: the task ends CANCELLED either way.
import type { Database } from "@modelreg/db";
import { TaskState } from "@modelreg/proto";
import { sql } from "drizzle-orm";
import type { FileSpec, TaskContent } from "../files/index.js";
import { FailedPreconditionError, InvalidArgumentError } from "../shared/errors.js";
import type { Scope } from "../shared/scope.js";
import { tasks } from "@modelreg/db";
import { finishing, moveTask } from "./events-sql.js";
import { endAttempt, latestCommittedEpoch, lockByLease } from "./lease.js";
import { taskResourceName } from "./rules.js";
import * as q from "./sql.js";
import type { TaskView } from "./types.js";
import { viewOf } from "./view.js";

const MAX_RESULT_BYTES = 1 << 20;

export interface CompleteInput {
  leaseToken: string;
  state: number;
  result: Record<string, unknown>;
  outputFiles: FileSpec[];
  metrics: Record<string, number>;
}

export async function completeTask(db: Database, content: TaskContent, scope: Scope, c: CompleteInput): Promise<TaskView> {
  if (c.state !== TaskState.SUCCEEDED && c.state !== TaskState.STOPPED)
    throw InvalidArgumentError.field("state", `${c.state === 0 ? "is required" : `${c.state} is not allowed`}: TASK_STATE_SUCCEEDED, or TASK_STATE_STOPPED to acknowledge a stop`);
  if (Buffer.byteLength(JSON.stringify(c.result)) > MAX_RESULT_BYTES) throw InvalidArgumentError.field("result", "is over 1 MiB as JSON; keep large results in output files");
  for (const [k, x] of Object.entries(c.metrics)) if (!Number.isFinite(x)) throw InvalidArgumentError.field(`metrics[${k}]`, `${x} is not a finite number`);
  const outputs = c.outputFiles.length > 0 ? await content.check(c.outputFiles, "output_files") : [];
  return db.transaction(async (tx) => {
    const task = await lockByLease(tx, scope, c.leaseToken);
    const name = taskResourceName(task.workspace, task.taskId);
    if (task.cancelRequested) return viewOf(tx, await moveTask(tx, task, TaskState.CANCELLED, "cancelled; the worker ended its attempt", finishing()));
    const merged = { metrics: sql`${tasks.metrics} || ${JSON.stringify(c.metrics)}::jsonb` as unknown as Record<string, number> };
    if (c.state === TaskState.STOPPED) {
      if (task.state !== TaskState.STOPPING)
        throw new FailedPreconditionError("NOT_STOPPING", `${name} was not asked to stop; complete it as SUCCEEDED, or fail it`, { resource: name });
      const epoch = await latestCommittedEpoch(tx, task.id);
      return viewOf(tx, await moveTask(tx, task, TaskState.STOPPED, epoch === null ? "stopped" : `stopped; resumes from epoch ${epoch}`, finishing({ resumeEpoch: epoch, ...merged })));
    }
    if (outputs.length > 0) {
      await content.requireHeld(tx, { workspace: task.workspace, name }, outputs, "call CompleteTask again");
      await q.replaceFiles(tx, task.id, q.FILE_KIND.output, outputs);
    }
    return viewOf(tx, await moveTask(tx, task, TaskState.SUCCEEDED, "succeeded", finishing({ result: c.result, ...merged })));
  });
}

export async function failTask(db: Database, scope: Scope, leaseToken: string, message: string, retryable: boolean): Promise<TaskView> {
  const length = [...message].length;
  if (length === 0 || length > 4000) throw InvalidArgumentError.field("message", length === 0 ? "is required: what went wrong" : `is ${length} characters long; the limit is 4000`);
  return db.transaction(async (tx) => {
    const task = await lockByLease(tx, scope, leaseToken);
    return viewOf(tx, await endAttempt(tx, task, message, retryable ? "retry" : "fail"));
  });
}

/** Hands a held task back to the queue without counting the attempt (the worker is shutting down). */
export async function releaseTask(db: Database, scope: Scope, leaseToken: string, reason: string): Promise<TaskView> {
  const length = [...reason].length;
  if (length > 4000) throw InvalidArgumentError.field("reason", `is ${length} characters long; the limit is 4000`);
  return db.transaction(async (tx) => {
    const task = await lockByLease(tx, scope, leaseToken);
    const why = `released by worker ${task.worker || "(unknown)"}${reason === "" ? "" : `: ${reason}`}`;
    return viewOf(tx, await endAttempt(tx, task, why, "release"));
  });
}
