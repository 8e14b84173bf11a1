// The worker's side of tasks (TaskWorkerService): claim with a lease,
// report, checkpoints, outputs, completion and failure, and the sweep that
// ends attempts whose lease ran out. Every call after the claim carries the
// lease token and takes the task's row lock through it (./lease.ts).
import { type Database, tasks, versionFiles } from "@modelreg/db";
import { and, asc, eq } from "drizzle-orm";
import type { FileSpec, StagedFile, StoredFile, TaskContent } from "../files/index.js";
import type { TaskWakeups } from "../ports/task-wakeups.js";
import type { Scope } from "../shared/scope.js";
import type { WorkerRow } from "../workers/index.js";
import { type CheckpointInput, commitCheckpoint, committedCheckpoint, createCheckpoint, stageOutputs } from "./checkpoints.js";
import { type ClaimInput, claimTask } from "./claim.js";
import { type CompleteInput, completeTask, failTask, releaseTask } from "./complete.js";
import { latestCommittedEpoch, sweepLeases } from "./lease.js";
import { type RegisterInput, registerLeasedOutput } from "./register.js";
import { type ReportInput, type ReportResult, reportProgress } from "./report.js";
import type { Version } from "../versions/index.js";
import type { CheckpointView, TaskView } from "./types.js";
import { viewOf } from "./view.js";

export type { CheckpointInput } from "./checkpoints.js";
export type { ClaimInput } from "./claim.js";
export type { CompleteInput } from "./complete.js";
export type { ReportInput, ReportResult } from "./report.js";

/** What a claim hands the worker. */
export interface Claimed {
  task: TaskView;
  worker: WorkerRow;
  leaseToken: string;
  leaseExpireTime: Date;
  /** The checkpoint to resume from (committed), or undefined to start from the beginning. */
  resumeFrom: (CheckpointView & { stored: StoredFile[] }) | undefined;
  /** The base version's files, or the parent task's latest checkpoint's. */
  baseFiles: StoredFile[];
  /** The task's input files. */
  inputFiles: StoredFile[];
}

export interface TaskRunsSettings {
  /** How long a lease lasts without a report. */
  leaseMs: number;
  /** Log bytes kept per task. */
  logCapBytes: number;
  /** How often a waiting claim looks again without a wake-up. */
  claimRecheckMs: number;
}

export interface TaskRuns {
  claim(scope: Scope, input: ClaimInput, signal?: AbortSignal): Promise<Claimed | undefined>;
  report(scope: Scope, input: ReportInput): Promise<ReportResult>;
  createCheckpoint(scope: Scope, input: CheckpointInput): Promise<{ checkpoint: CheckpointView; uploads: StagedFile[]; bytesToUpload: number }>;
  commitCheckpoint(scope: Scope, leaseToken: string, epoch: number): Promise<CheckpointView>;
  stageOutputs(scope: Scope, leaseToken: string, files: FileSpec[], accessKeyId: string): Promise<{ uploads: StagedFile[]; bytesToUpload: number }>;
  complete(scope: Scope, input: CompleteInput): Promise<TaskView>;
  fail(scope: Scope, leaseToken: string, message: string, retryable: boolean): Promise<TaskView>;
  /** Back to the queue with the attempt not counted: the worker is shutting down. */
  release(scope: Scope, leaseToken: string, reason: string): Promise<TaskView>;
  /** A checkpoint of the attempt's task, or files the workspace holds, as a READY version whose lineage names the task. */
  registerVersion(scope: Scope, leaseToken: string, r: RegisterInput): Promise<Version>;
  /** Ends attempts whose lease ran out; returns how many. */
  sweep(): Promise<number>;
  readonly settings: TaskRunsSettings;
}

export function createTaskRuns(db: Database, content: TaskContent, wakeups: TaskWakeups, settings: TaskRunsSettings): TaskRuns {
  return {
    settings,
    claim: (scope, input, signal) => claim(db, content, wakeups, settings, scope, input, signal),
    report: (scope, input) => reportProgress(db, settings, scope, input),
    createCheckpoint: (scope, input) => createCheckpoint(db, content, settings.leaseMs, scope, input),
    commitCheckpoint: (scope, token, epoch) => commitCheckpoint(db, content, settings.leaseMs, scope, token, epoch),
    stageOutputs: (scope, token, files, key) => stageOutputs(db, content, settings.leaseMs, scope, token, files, key),
    complete: (scope, input) => completeTask(db, content, scope, input),
    fail: (scope, token, message, retryable) => failTask(db, scope, token, message, retryable),
    release: (scope, token, reason) => releaseTask(db, scope, token, reason),
    registerVersion: (scope, token, r) => registerLeasedOutput(db, content, settings.leaseMs, scope, token, r),
    sweep: () => sweepLeases(db),
  };
}

async function claim(db: Database, content: TaskContent, wakeups: TaskWakeups, settings: TaskRunsSettings, scope: Scope, input: ClaimInput, signal?: AbortSignal): Promise<Claimed | undefined> {
  const hit = await claimTask(db, wakeups, { leaseMs: settings.leaseMs, recheckMs: settings.claimRecheckMs }, scope, input, signal);
  if (!hit) return undefined;
  const { task, worker } = hit;
  const checkpoint = task.resumeEpoch === null ? undefined : await committedCheckpoint(db, task, task.resumeEpoch);
  const resumeFrom = checkpoint && { ...checkpoint, stored: await content.withMd5(db, checkpoint.files) };
  const view = await viewOf(db, task);
  const [baseFiles, inputFiles] = [await content.withMd5(db, await baseFilesOf(db, task)), await content.withMd5(db, view.inputFiles)];
  return { task: view, worker, leaseToken: task.leaseToken, leaseExpireTime: task.leaseUntil!, resumeFrom, baseFiles, inputFiles };
}

/** The files a task works on: its base version's, else its parent task's latest committed checkpoint's. */
async function baseFilesOf(db: Database, task: { baseVersionId: string | null; parentTaskId: string | null; workspace: string }): Promise<FileSpec[]> {
  if (task.baseVersionId)
    return db
      .select({ path: versionFiles.path, size: versionFiles.size, sha256: versionFiles.sha256, mediaType: versionFiles.mediaType })
      .from(versionFiles)
      .where(and(eq(versionFiles.versionId, task.baseVersionId), eq(versionFiles.draft, false)))
      .orderBy(asc(versionFiles.path));
  if (!task.parentTaskId) return [];
  const [parent] = await db.select().from(tasks).where(eq(tasks.id, task.parentTaskId));
  const epoch = parent ? await latestCommittedEpoch(db, parent.id) : null;
  if (!parent || epoch === null) return [];
  return (await committedCheckpoint(db, parent, epoch))?.files ?? [];
}
