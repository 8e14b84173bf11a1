// A task's events: every change takes the next sequence numbers under the
// task's row lock (tasks.last_seq), so events are numbered in the order
// they commit, and each committed change sends a NOTIFY (ids only) that
// wakes watchers and waiting claims on every replica. State changes,
// progress and checkpoints are rows of task_events; log lines and metric
// points live in their own tables under the same numbering.
import { type Database, taskEvents, tasks, type TaskRow, type Tx } from "@modelreg/db";
import { TaskState } from "@modelreg/proto";
import { eq, sql } from "drizzle-orm";
import { EVENT_KIND, type StateChangeRecord } from "./types.js";

/** The channel of task notifications. Payloads: `e <task uuid> <seq>` (events up to seq committed), `q <workspace>` (a task became claimable). */
export const TASK_CHANNEL = "modelreg_tasks";

export async function notifyEvents(tx: Tx, taskRowId: string, seq: number): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${TASK_CHANNEL}, ${`e ${taskRowId} ${seq}`})`);
}

export async function notifyQueued(tx: Tx, workspace: string): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${TASK_CHANNEL}, ${`q ${workspace}`})`);
}

/** Takes `n` sequence numbers of the task; returns the first. The caller holds the row lock (or this takes it). */
export async function takeSeqs(tx: Tx, taskRowId: string, n: number): Promise<number> {
  const [row] = await tx
    .update(tasks)
    .set({ lastSeq: sql`${tasks.lastSeq} + ${n}` })
    .where(eq(tasks.id, taskRowId))
    .returning({ lastSeq: tasks.lastSeq });
  return row!.lastSeq - n + 1;
}

export async function insertEvent(tx: Tx, taskRowId: string, seq: number, kind: number, payload: Record<string, unknown>): Promise<void> {
  await tx.insert(taskEvents).values({ taskId: taskRowId, seq, kind, payload });
}

/**
 * Moves a task to `to` with the other columns in `set`, records the state
 * change as the task's next event and notifies; one statement for the row,
 * one for the event. The caller has checked the move (rules.checkMove).
 */
export async function moveTask(
  tx: Tx,
  task: TaskRow,
  to: TaskState,
  message: string,
  set: Partial<typeof tasks.$inferInsert> = {},
): Promise<TaskRow> {
  const [row] = await tx
    .update(tasks)
    .set({
      ...set,
      state: to,
      lastSeq: sql`${tasks.lastSeq} + 1`,
      revision: sql`${tasks.revision} + 1`,
      updateTime: sql`now()`,
    })
    .where(eq(tasks.id, task.id))
    .returning();
  const moved = row!;
  const change: StateChangeRecord = { state: to, previousState: task.state, message, attempt: moved.attempt, worker: moved.worker };
  await insertEvent(tx, moved.id, moved.lastSeq, EVENT_KIND.state, { ...change });
  await notifyEvents(tx, moved.id, moved.lastSeq);
  if (to === TaskState.QUEUED) await notifyQueued(tx, moved.workspace);
  return moved;
}

/** What a task that finishes (or is queued again) no longer holds. */
export const RELEASED = { worker: "", workerRowId: null, leaseToken: "", leaseUntil: null, stopRequested: false, cancelRequested: false } as const;

/** Ends a task in a final state: released, end time set. */
export function finishing(extra: Partial<typeof tasks.$inferInsert> = {}): Partial<typeof tasks.$inferInsert> {
  return { ...RELEASED, endTime: sql`now()` as unknown as Date, ...extra };
}

/** The last sequence number of a task (for a reader that must not block on its lock). */
export async function lastSeqOf(db: Database, taskRowId: string): Promise<number | undefined> {
  const [row] = await db.select({ lastSeq: tasks.lastSeq }).from(tasks).where(eq(tasks.id, taskRowId));
  return row?.lastSeq;
}
