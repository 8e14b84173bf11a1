// Tasks: runs of training, evaluation, pruning, prediction and conversion
// that workers outside the server execute. This module creates them with
// params from templates, moves them through their states (start, stop,
// resume, cancel), lists and deletes them, and manages the templates. The
// worker side (claims, leases, reports, checkpoints, completion) is in
// ./worker.ts; reading a task's events, logs and metrics in ./reads.ts.
import type { Database } from "@modelreg/db";
import type { TaskContent } from "../files/index.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import type { Scope } from "../shared/scope.js";
import { type CreateResult, createTask } from "./create.js";
import { cancelTask, deleteTask, getTask, type ResumeInput, resumeTask, startTask, stopTask, updateTask } from "./lifecycle.js";
import { checkList } from "./rules.js";
import * as q from "./sql.js";
import { createTemplate, deleteTemplate, listTemplates, type NewTemplate, type TemplateView } from "./templates.js";
import type { CreateTaskInput, TaskListOptions, TaskPage, TaskUpdate, TaskView } from "./types.js";
import { listView } from "./view.js";
import { requireWorkspace } from "../workspaces/index.js";
import type { TaskWakeups } from "../ports/task-wakeups.js";
import { type EventPage, listCheckpoints, listEvents, listLogs, listMetrics, type LogPage, type LogQuery, type MetricSeriesRecord } from "./reads.js";
import { type WatchItem, type WatchOptions, watchTask } from "./watch.js";
import type { CheckpointView } from "./types.js";

export type { CreateResult } from "./create.js";
export type { ResumeInput } from "./lifecycle.js";
export type { NewTemplate, TemplateView } from "./templates.js";
export type { EventPage, LogPage, LogQuery, MetricSeriesRecord } from "./reads.js";
export type { WatchItem, WatchOptions } from "./watch.js";
export type * from "./types.js";
export { parseTaskName, taskResourceName } from "./rules.js";
export { TASK_CHANNEL } from "./events-sql.js";
export { createTaskRuns, type Claimed, type TaskRuns, type TaskRunsSettings } from "./worker.js";
export type { CheckpointInput, ClaimInput, CompleteInput, ReportInput, ReportResult } from "./worker.js";
export type { OutputSource, RegisterInput } from "./register.js";
import { type RegisterInput, registerTaskOutput } from "./register.js";
import { type Defaults, type DefaultsQuery, defaultsFor } from "./defaults.js";
export type { Defaults, DefaultsQuery } from "./defaults.js";
import type { Version } from "../versions/index.js";

export interface TasksDomain {
  /** Creates a task (or, with validate_only, says what it would be); QUEUED, or PENDING while input files are to be uploaded. */
  create(scope: Scope, input: CreateTaskInput): Promise<CreateResult>;
  /** One task by name. */
  get(scope: Scope, name: string): Promise<TaskView>;
  /** A workspace's tasks, newest first unless ordered otherwise; list views carry no files or output versions. */
  list(scope: Scope, parent: string, opts: TaskListOptions): Promise<TaskPage>;
  /** Changes description, labels, max_attempts, and params before the first run. */
  update(scope: Scope, name: string, paths: string[], u: TaskUpdate): Promise<TaskView>;
  /** Deletes a task no worker holds, with its events, logs, metrics and checkpoints. */
  delete(scope: Scope, name: string, etag: string): Promise<void>;
  /** Queues a PENDING task once its input files are all held. */
  start(scope: Scope, name: string): Promise<TaskView>;
  /** Stops a task: STOPPING while its worker saves a checkpoint, STOPPED at once when none holds it. */
  stop(scope: Scope, name: string): Promise<TaskView>;
  /** Queues a STOPPED or FAILED task again, from a committed checkpoint, optionally with changed params. */
  resume(scope: Scope, r: ResumeInput): Promise<TaskView>;
  /** Cancels a task for good (a held one when its worker next reports, or its lease ends). */
  cancel(scope: Scope, name: string): Promise<TaskView>;
  /** A template's defaults for a type, the batch size fitted to the GPUs given or the workers named. */
  defaults(scope: Scope, q: DefaultsQuery): Promise<Defaults>;
  /** A committed checkpoint (or the outputs) of a task as a READY version whose lineage names the task. */
  registerOutput(scope: Scope, name: string, r: RegisterInput): Promise<Version>;
  /** Built-in templates and the workspace's own. */
  listTemplates(scope: Scope, parent: string, type: number): Promise<TemplateView[]>;
  createTemplate(scope: Scope, parent: string, t: NewTemplate): Promise<TemplateView>;
  deleteTemplate(scope: Scope, name: string): Promise<void>;
  /** The task's events after a sequence number, in order, at most `limit` rows of each kind (./reads.ts). */
  events(scope: Scope, name: string, afterSeq: number, limit: number, opts: { excludeLogs: boolean }): Promise<EventPage>;
  /** Log lines after a sequence number (paged), or the last ones. */
  logs(scope: Scope, name: string, q: LogQuery): Promise<LogPage>;
  /** Metric series (all, or those named), each downsampled to at most `maxPoints`. */
  metrics(scope: Scope, name: string, names: string[], maxPoints: number): Promise<MetricSeriesRecord[]>;
  /** Checkpoints by epoch, with their files. */
  checkpoints(scope: Scope, name: string, includePending: boolean): Promise<CheckpointView[]>;
  /** The task, then its events after `afterSeq`, then each new one; ends after a final state unless following, or when `signal` aborts (./watch.ts). */
  watch(scope: Scope, name: string, afterSeq: number, opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchItem>;
}

export interface TasksOptions {
  /** What wakes watchers when a task's events commit. */
  wakeups: TaskWakeups;
  /** Quiet time before a watch sends a keep-alive (default 15 s). */
  watchKeepAliveMs?: number;
}

export function createTasksDomain(db: Database, content: TaskContent, options: TasksOptions): TasksDomain {
  const watch = { db, wakeups: options.wakeups, keepAliveMs: options.watchKeepAliveMs ?? 15_000, reads: new Map() };
  return {
    create: (scope, input) => createTask(db, content, scope, input),
    get: (scope, name) => getTask(db, scope, name),
    list: (scope, parent, opts) => listTasks(db, scope, parent, opts),
    update: (scope, name, paths, u) => updateTask(db, scope, name, paths, u),
    delete: (scope, name, etag) => deleteTask(db, scope, name, etag),
    start: (scope, name) => startTask(db, content, scope, name),
    stop: (scope, name) => stopTask(db, scope, name),
    resume: (scope, r) => resumeTask(db, scope, r),
    cancel: (scope, name) => cancelTask(db, scope, name),
    registerOutput: (scope, name, r) => registerTaskOutput(db, content, scope, name, r),
    defaults: (scope, q) => defaultsFor(db, scope, q),
    listTemplates: (scope, parent, type) => listTemplates(db, scope, parent, type),
    createTemplate: (scope, parent, t) => createTemplate(db, scope, parent, t),
    deleteTemplate: (scope, name) => deleteTemplate(db, scope, name),
    events: (scope, name, afterSeq, limit, opts) => listEvents(db, scope, name, afterSeq, limit, opts.excludeLogs),
    logs: (scope, name, query) => listLogs(db, scope, name, query),
    metrics: (scope, name, names, maxPoints) => listMetrics(db, scope, name, names, maxPoints),
    checkpoints: (scope, name, includePending) => listCheckpoints(db, scope, name, includePending),
    watch: (scope, name, afterSeq, opts, signal) => watchTask(watch, scope, name, afterSeq, opts, signal),
  };
}

async function listTasks(db: Database, scope: Scope, parent: string, opts: TaskListOptions): Promise<TaskPage> {
  const { workspace, limit, expr, order } = checkList(parent, opts);
  const fp = queryFingerprint("tasks", parent, opts.filter, opts.orderBy);
  const after = decodePageToken(opts.pageToken, fp, order.field === "update_time" ? 2 : 1);
  const rows = await q.selectPage(db, scope, workspace, expr, order, after, limit);
  // An empty answer must not hide a missing workspace (or one out of scope).
  if (rows.length === 0 && !after) await requireWorkspace(db, scope, workspace);
  const page = pageOf(rows, limit, fp, (r) => q.pageKey(r, order));
  return { tasks: page.rows.map(listView), nextPageToken: page.nextPageToken };
}
