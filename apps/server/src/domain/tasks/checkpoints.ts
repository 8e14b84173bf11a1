// Checkpoints and output files of a running attempt, under its lease: a
// checkpoint's files are declared (content the workspace lacks gets upload
// sessions of the task), uploaded through the signed URLs, and committed
// only once every file is stored and verified (PaddleX's `.success`
// marker). Saving an epoch again replaces it.
import { type Database, taskCheckpointFiles, taskCheckpoints, type TaskCheckpointRow, type Tx } from "@modelreg/db";
import { CheckpointState } from "@modelreg/proto";
import { and, asc, eq, sql } from "drizzle-orm";
import type { FileSpec, StagedFile, TaskContent } from "../files/index.js";
import { InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import type { Scope } from "../shared/scope.js";
import { Violations } from "../shared/validation.js";
import { insertEvent, notifyEvents, takeSeqs } from "./events-sql.js";
import { lockByLease } from "./lease.js";
import { checkpointResourceName, taskResourceName } from "./rules.js";
import { type CheckpointView, EVENT_KIND } from "./types.js";

const MAX_FILES = 10_000;

function checkManifest(files: FileSpec[], epoch?: number): void {
  const v = new Violations();
  if (epoch !== undefined && (!Number.isSafeInteger(epoch) || epoch < 0)) v.add("epoch", `${epoch} is not an epoch: a whole number from 0`);
  if (files.length === 0) v.add("files", "is required: at least one file");
  if (files.length > MAX_FILES) v.add("files", `has ${files.length} files; the limit is ${MAX_FILES}`);
  if (!v.empty) throw new InvalidArgumentError(v.list);
}

export interface CheckpointInput {
  leaseToken: string;
  epoch: number;
  files: FileSpec[];
  metrics: Record<string, number>;
  accessKeyId: string;
}

export async function createCheckpoint(db: Database, content: TaskContent, leaseMs: number, scope: Scope, c: CheckpointInput): Promise<{ checkpoint: CheckpointView; uploads: StagedFile[]; bytesToUpload: number }> {
  checkManifest(c.files, c.epoch);
  for (const [k, x] of Object.entries(c.metrics)) if (!Number.isFinite(x)) throw InvalidArgumentError.field(`metrics[${k}]`, `${x} is not a finite number`);
  const files = await content.check(c.files, "files");
  return db.transaction(async (tx) => {
    const task = await lockByLease(tx, scope, c.leaseToken, leaseMs);
    const values = { taskId: task.id, epoch: c.epoch, state: CheckpointState.PENDING, attempt: task.attempt, metrics: c.metrics, fileCount: files.length, totalSize: files.reduce((s, f) => s + f.size, 0) };
    const [row] = await tx
      .insert(taskCheckpoints)
      .values(values)
      .onConflictDoUpdate({ target: [taskCheckpoints.taskId, taskCheckpoints.epoch], set: { ...values, createTime: sql`now()`, commitTime: null } })
      .returning();
    await tx.delete(taskCheckpointFiles).where(eq(taskCheckpointFiles.checkpointId, row!.id));
    for (let i = 0; i < files.length; i += 1000) await tx.insert(taskCheckpointFiles).values(files.slice(i, i + 1000).map((f) => ({ checkpointId: row!.id, ...f })));
    const staged = await content.stage(tx, { workspace: task.workspace, taskRowId: task.id, taskId: task.taskId }, files, c.accessKeyId);
    const name = checkpointResourceName(taskResourceName(task.workspace, task.taskId), c.epoch);
    return { checkpoint: { row: row!, name, files }, uploads: staged.files, bytesToUpload: staged.bytesToUpload };
  });
}

export async function commitCheckpoint(db: Database, content: TaskContent, leaseMs: number, scope: Scope, leaseToken: string, epoch: number): Promise<CheckpointView> {
  return db.transaction(async (tx) => {
    const task = await lockByLease(tx, scope, leaseToken, leaseMs);
    const taskName = taskResourceName(task.workspace, task.taskId);
    const name = checkpointResourceName(taskName, epoch);
    const [row] = await tx
      .select()
      .from(taskCheckpoints)
      .where(and(eq(taskCheckpoints.taskId, task.id), eq(taskCheckpoints.epoch, epoch)));
    if (!row) throw new NotFoundError("checkpoint", name, `checkpoint ${name} (create it with CreateCheckpoint first)`);
    const files = await checkpointFiles(tx, row.id);
    if (row.state === CheckpointState.COMMITTED) return { row, name, files };
    await content.requireHeld(tx, { workspace: task.workspace, name }, files, "call CommitCheckpoint again");
    const [committed] = await tx
      .update(taskCheckpoints)
      .set({ state: CheckpointState.COMMITTED, commitTime: sql`now()` })
      .where(eq(taskCheckpoints.id, row.id))
      .returning();
    const seq = await takeSeqs(tx, task.id, 1);
    await insertEvent(tx, task.id, seq, EVENT_KIND.checkpoint, { epoch, attempt: committed!.attempt, fileCount: committed!.fileCount, totalSize: committed!.totalSize, metrics: committed!.metrics });
    await notifyEvents(tx, task.id, seq);
    return { row: committed!, name, files };
  });
}

export async function checkpointFiles(q: Tx | Database, checkpointId: string): Promise<FileSpec[]> {
  return q
    .select({ path: taskCheckpointFiles.path, size: taskCheckpointFiles.size, sha256: taskCheckpointFiles.sha256, mediaType: taskCheckpointFiles.mediaType })
    .from(taskCheckpointFiles)
    .where(eq(taskCheckpointFiles.checkpointId, checkpointId))
    .orderBy(asc(taskCheckpointFiles.path));
}

/** The committed checkpoint of a task at an epoch, with its files. */
export async function committedCheckpoint(q: Tx | Database, task: { id: string; workspace: string; taskId: string }, epoch: number): Promise<CheckpointView | undefined> {
  const [row] = await q
    .select()
    .from(taskCheckpoints)
    .where(and(eq(taskCheckpoints.taskId, task.id), eq(taskCheckpoints.epoch, epoch), eq(taskCheckpoints.state, CheckpointState.COMMITTED)));
  if (!row) return undefined;
  return { row, name: checkpointResourceName(taskResourceName(task.workspace, task.taskId), epoch), files: await checkpointFiles(q, row.id) };
}

export async function stageOutputs(db: Database, content: TaskContent, leaseMs: number, scope: Scope, leaseToken: string, files: FileSpec[], accessKeyId: string): Promise<{ uploads: StagedFile[]; bytesToUpload: number }> {
  checkManifest(files);
  const checked = await content.check(files, "files");
  return db.transaction(async (tx) => {
    const task = await lockByLease(tx, scope, leaseToken, leaseMs);
    const staged = await content.stage(tx, { workspace: task.workspace, taskRowId: task.id, taskId: task.taskId }, checked, accessKeyId);
    return { uploads: staged.files, bytesToUpload: staged.bytesToUpload };
  });
}

export type { TaskCheckpointRow };
