// Leases: a claim starts an attempt and hands its worker a token; every
// later call of the attempt carries it and takes the task's row lock
// through it. A token that is no longer the task's (its lease was lost and
// the task queued again, or it finished) is refused, so a worker that lost
// its lease never writes over the one that took over. The sweep ends the
// attempts whose lease ran out.
import { randomBytes } from "node:crypto";
import { type Database, taskCheckpoints, tasks, type TaskRow, type Tx } from "@modelreg/db";
import { CheckpointState, TaskState } from "@modelreg/proto";
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import type { Scope } from "../shared/scope.js";
import { finishing, moveTask, RELEASED } from "./events-sql.js";
import { stateName, taskResourceName } from "./rules.js";

/** `<task uuid>.<random>`: the task is found from the token, the token compared whole. */
export function newLeaseToken(taskRowId: string): string {
  return `${taskRowId}.${randomBytes(18).toString("base64url")}`;
}

const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[A-Za-z0-9_-]{24}$/;

function leaseLost(detail: string): FailedPreconditionError {
  return new FailedPreconditionError("LEASE_LOST", `this lease is no longer valid: ${detail}; stop working on the task and claim again`);
}

/** The task row id a lease token names; INVALID_ARGUMENT when it is not a token at all. */
export function taskOfToken(token: string): string {
  const m = TOKEN.exec(token);
  if (!m) throw InvalidArgumentError.field("lease_token", token === "" ? "is required: the lease_token ClaimTask returned" : "is not a lease token ClaimTask returned; send it unchanged");
  return m[1]!;
}

/** What a lease check reads of the task. */
type HeldFields = Pick<TaskRow, "workspace" | "taskId" | "state" | "leaseToken" | "attempt">;

/**
 * Refuses a task found by a lease token unless the token still holds it:
 * NOT_FOUND for a task that is gone or in another workspace, LEASE_LOST for
 * one whose token or state moved on.
 */
export function checkHeld<T extends HeldFields>(scope: Scope, token: string, task: T | undefined): T {
  // Another workspace's task is as invisible as one that does not exist.
  if (!task || (scope.workspace !== null && task.workspace !== scope.workspace))
    throw new NotFoundError("task", "(lease token)", "the task this lease token was issued for (deleted, or in another workspace)");
  const name = taskResourceName(task.workspace, task.taskId);
  if (task.leaseToken !== token || (task.state !== TaskState.RUNNING && task.state !== TaskState.STOPPING))
    throw leaseLost(`${name} is ${stateName(task.state)} with ${task.leaseToken ? "another attempt's lease" : "no lease"} (attempt ${task.attempt})`);
  return task;
}

/**
 * The task a lease token holds, locked, within scope; LEASE_LOST when the
 * token is not the task's current one (or the task is not held any more).
 */
export async function lockByLease(tx: Tx, scope: Scope, token: string, extendMs?: number): Promise<TaskRow> {
  const id = taskOfToken(token);
  const [found] = await tx.select().from(tasks).where(eq(tasks.id, id)).for("update");
  const task = checkHeld(scope, token, found);
  // Every call of the attempt shows the worker alive, not only reports.
  if (extendMs !== undefined) task.leaseUntil = await extendLease(tx, task.id, extendMs);
  return task;
}

/** Extends a held task's lease by `leaseMs` from now. */
export async function extendLease(tx: Tx, taskRowId: string, leaseMs: number): Promise<Date> {
  const [row] = await tx
    .update(tasks)
    .set({ leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where(eq(tasks.id, taskRowId))
    .returning({ leaseUntil: tasks.leaseUntil });
  return row!.leaseUntil!;
}

/** The latest committed checkpoint's epoch, or null. */
export async function latestCommittedEpoch(q: Tx | Database, taskRowId: string): Promise<number | null> {
  const [row] = await q
    .select({ epoch: taskCheckpoints.epoch })
    .from(taskCheckpoints)
    .where(and(eq(taskCheckpoints.taskId, taskRowId), eq(taskCheckpoints.state, CheckpointState.COMMITTED)))
    .orderBy(desc(taskCheckpoints.epoch))
    .limit(1);
  return row?.epoch ?? null;
}

/** Every committed checkpoint's epoch, ascending (for a message that lists them). */
export async function committedEpochs(q: Tx | Database, taskRowId: string): Promise<number[]> {
  const rows = await q
    .select({ epoch: taskCheckpoints.epoch })
    .from(taskCheckpoints)
    .where(and(eq(taskCheckpoints.taskId, taskRowId), eq(taskCheckpoints.state, CheckpointState.COMMITTED)))
    .orderBy(taskCheckpoints.epoch);
  return rows.map((r) => r.epoch);
}

/** Whether the task may try again after this attempt. */
export const attemptsLeft = (task: TaskRow): boolean => task.attempt - task.attemptsBefore < task.maxAttempts;

/**
 * How an attempt that will not report again goes on: `retry` (queued again
 * while attempts remain), `fail` (FAILED), or `release` (queued again with
 * this attempt not counted: its worker handed it back).
 */
export type AfterAttempt = "retry" | "fail" | "release";

/**
 * Ends an attempt that will not report again (its lease ran out, or its
 * worker failed or let it go): a pending cancel is finished as CANCELLED, a
 * pending stop as STOPPED, else the task is queued again from its latest
 * committed checkpoint while attempts remain (or when released), and
 * FAILED after the last.
 */
export async function endAttempt(tx: Tx, task: TaskRow, why: string, then: AfterAttempt): Promise<TaskRow> {
  const epoch = await latestCommittedEpoch(tx, task.id);
  if (task.cancelRequested) return moveTask(tx, task, TaskState.CANCELLED, `${why}; the cancel is finished by the server`, finishing());
  if (task.state === TaskState.STOPPING) return moveTask(tx, task, TaskState.STOPPED, `${why}; the stop is finished by the server`, finishing({ resumeEpoch: epoch }));
  // Not counted: the next claim's attempt number is matched by one more attempt before.
  if (then === "release")
    return moveTask(tx, task, TaskState.QUEUED, `${why}; queued again (this attempt is not counted)`, { ...RELEASED, resumeEpoch: epoch, attemptsBefore: task.attemptsBefore + 1 });
  const retry = then === "retry";
  if (retry && attemptsLeft(task))
    return moveTask(tx, task, TaskState.QUEUED, `${why}; queued again (attempt ${task.attempt - task.attemptsBefore} of ${task.maxAttempts} used)`, {
      ...RELEASED,
      resumeEpoch: epoch,
      errorMessage: why,
    });
  const used = `attempt ${task.attempt - task.attemptsBefore} of ${task.maxAttempts}`;
  return moveTask(tx, task, TaskState.FAILED, `${why} (${used})`, finishing({ errorMessage: why, resumeEpoch: epoch }));
}

/**
 * Ends the attempts whose lease ran out, up to `limit` at a time, each in
 * its own transaction with the row locked (SKIP LOCKED: a replica sweeping
 * at the same time takes others, and a task whose worker is reporting right
 * now is left to that report). Returns how many it ended.
 */
export async function sweepLeases(db: Database, limit = 100): Promise<number> {
  const due = await db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(inArray(tasks.state, [TaskState.RUNNING, TaskState.STOPPING]), lt(tasks.leaseUntil, sql`now()`)))
    .limit(limit);
  let ended = 0;
  for (const { id } of due) {
    ended += await db.transaction(async (tx) => {
      const [task] = await tx
        .select()
        .from(tasks)
        .where(and(eq(tasks.id, id), inArray(tasks.state, [TaskState.RUNNING, TaskState.STOPPING]), lt(tasks.leaseUntil, sql`now()`)))
        .for("update", { skipLocked: true });
      if (!task) return 0;
      await endAttempt(tx, task, `lease lost: worker ${task.worker || "(unknown)"} stopped reporting`, "retry");
      return 1;
    });
  }
  return ended;
}
