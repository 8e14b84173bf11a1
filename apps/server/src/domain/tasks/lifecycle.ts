// What people do to a task after creating it: start (queue a PENDING one
// once its inputs are uploaded), stop, resume, cancel, update and delete.
// Each is one transaction under the task's row lock, its state change
// recorded as an event, the audit row inside.
import type { Database, TaskRow, Tx } from "@modelreg/db";
import { TaskState } from "@modelreg/proto";
import type { TaskContent } from "../files/index.js";
import { checkEtag, etagOf } from "../shared/etag.js";
import { FailedPreconditionError, NotFoundError } from "../shared/errors.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { committedCheckpoint } from "./checkpoints.js";
import { finishing, moveTask } from "./events-sql.js";
import { committedEpochs, latestCommittedEpoch } from "./lease.js";
import { resolveParams } from "./params/index.js";
import { checkDelete, checkMove, checkResumeEpoch, checkUpdate, isHeld, parseTaskName, requireState, taskResourceName } from "./rules.js";
import * as q from "./sql.js";
import { findTemplate } from "./templates.js";
import type { TaskUpdate, TaskView } from "./types.js";
import { viewOf } from "./view.js";

/** The task a name gives, within scope, locked, or NotFound. */
export async function lockTask(tx: Tx, scope: Scope, name: string, field = "name"): Promise<TaskRow> {
  const hit = await q.selectByName(tx, scope, parseTaskName(field, name), true);
  if (!hit) throw new NotFoundError("task", name);
  return hit;
}

export async function getTask(db: Database, scope: Scope, name: string): Promise<TaskView> {
  const hit = await q.selectByName(db, scope, parseTaskName("name", name));
  if (!hit) throw new NotFoundError("task", name);
  return viewOf(db, hit);
}

/** Runs `change` on the locked task in a transaction with the audit row; returns the task's view after it. */
async function changeTask(db: Database, scope: Scope, name: string, change: (tx: Tx, task: TaskRow) => Promise<TaskRow>): Promise<TaskView> {
  return db.transaction(async (tx) => {
    const task = await lockTask(tx, scope, name);
    const after = await change(tx, task);
    await writeAudit(tx, scope);
    return viewOf(tx, after);
  });
}

export function startTask(db: Database, content: TaskContent, scope: Scope, name: string): Promise<TaskView> {
  return changeTask(db, scope, name, async (tx, task) => {
    requireState({ name, state: task.state }, [TaskState.PENDING], "start");
    const { inputs } = await q.selectFiles(tx, task.id);
    await content.requireHeld(tx, { workspace: task.workspace, name }, inputs, "call StartTask again");
    return moveTask(tx, task, TaskState.QUEUED, "input files uploaded");
  });
}

export function stopTask(db: Database, scope: Scope, name: string): Promise<TaskView> {
  return changeTask(db, scope, name, async (tx, task) => {
    requireState({ name, state: task.state }, [TaskState.PENDING, TaskState.QUEUED, TaskState.RUNNING, TaskState.STOPPING], "stop");
    if (task.state === TaskState.STOPPING) return task;
    if (task.state === TaskState.RUNNING) return moveTask(tx, task, TaskState.STOPPING, "stop asked", { stopRequested: true });
    return moveTask(tx, task, TaskState.STOPPED, "stopped before it ran", finishing());
  });
}

export function cancelTask(db: Database, scope: Scope, name: string): Promise<TaskView> {
  return changeTask(db, scope, name, async (tx, task) => {
    // A worker holds it: it learns of the cancel on its next report (or
    // its lease ends), and the task is CANCELLED then.
    if (isHeld(task.state)) return task.cancelRequested ? task : q.updateFields(tx, task.id, { cancelRequested: true });
    checkMove({ name, state: task.state }, TaskState.CANCELLED, "cancel");
    return moveTask(tx, task, TaskState.CANCELLED, "cancelled", finishing());
  });
}

export interface ResumeInput {
  name: string;
  epoch: number | undefined;
  params: Record<string, unknown> | undefined;
}

export function resumeTask(db: Database, scope: Scope, r: ResumeInput): Promise<TaskView> {
  checkResumeEpoch(r.epoch);
  return changeTask(db, scope, r.name, async (tx, task) => {
    requireState({ name: r.name, state: task.state }, [TaskState.STOPPED, TaskState.FAILED], "resume");
    const epoch = await resumeEpoch(tx, task, r.epoch);
    let params = {};
    if (r.params && Object.keys(r.params).length > 0) {
      const template = await findTemplate(tx, task.workspace, task.type, task.template);
      const given = { ...task.givenParams, ...r.params };
      params = { params: resolveParams(template.template, given), givenParams: given };
    }
    const message = epoch === null ? "resumed from the start" : `resumed from epoch ${epoch}`;
    return moveTask(tx, task, TaskState.QUEUED, message, { ...finishing(), endTime: null, resumeEpoch: epoch, attemptsBefore: task.attempt, errorMessage: "", ...params });
  });
}

/** The epoch a resume starts from: the one asked for (which must have a committed checkpoint), else the latest committed, else none. */
async function resumeEpoch(tx: Tx, task: TaskRow, asked: number | undefined): Promise<number | null> {
  if (asked === undefined) return latestCommittedEpoch(tx, task.id);
  if (await committedCheckpoint(tx, task, asked)) return asked;
  const epochs = await committedEpochs(tx, task.id);
  const name = taskResourceName(task.workspace, task.taskId);
  throw new FailedPreconditionError(
    "NO_CHECKPOINT",
    `${name} has no committed checkpoint at epoch ${asked}; ${epochs.length === 0 ? "it has none, so resume it without an epoch to start over" : `committed epochs: ${epochs.join(", ")}`}`,
    { resource: name, epoch: String(asked) },
  );
}

export function updateTask(db: Database, scope: Scope, name: string, paths: string[], u: TaskUpdate): Promise<TaskView> {
  return changeTask(db, scope, name, async (tx, task) => {
    checkEtag(name, u.etag, etagOf(task.id, task.revision));
    const mask = checkUpdate(paths, u, { name, state: task.state, attempt: task.attempt });
    const set: Parameters<typeof q.updateFields>[2] = {};
    if (mask.has("description")) set.description = u.description;
    if (mask.has("labels")) set.labels = u.labels;
    if (mask.has("max_attempts")) set.maxAttempts = u.maxAttempts || task.maxAttempts;
    if (mask.has("params")) {
      const template = await findTemplate(tx, task.workspace, task.type, task.template);
      set.params = resolveParams(template.template, u.params);
      set.givenParams = u.params;
    }
    return q.updateFields(tx, task.id, set);
  });
}

export async function deleteTask(db: Database, scope: Scope, name: string, etag: string): Promise<void> {
  await db.transaction(async (tx) => {
    const task = await lockTask(tx, scope, name);
    checkEtag(name, etag, etagOf(task.id, task.revision));
    checkDelete({ name, state: task.state });
    await q.deleteTask(tx, task.id);
    await writeAudit(tx, scope);
  });
}
