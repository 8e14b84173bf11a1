// Tables of tasks: runs (training, evaluation, pruning, prediction,
// conversion) that workers outside the server execute, their events, logs,
// metric points, checkpoints and files, the workers themselves, and the
// workspaces' own params templates. Re-exported by schema.ts, so the
// migrations cover them.
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { models, versions, workspaces } from "./schema.js";

const time = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** A file of a task's manifest: one of its inputs, outputs, or one checkpoint's files. */
const fileColumns = {
  path: text("path").notNull(),
  size: bigint("size", { mode: "number" }).notNull(),
  sha256: text("sha256").notNull(),
  mediaType: text("media_type").notNull(),
};

/** Machines that run tasks, per workspace, as they last registered and reported. */
export const workers = pgTable(
  "workers",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name, { onDelete: "cascade" }),
    workerId: text("worker_id").notNull(),
    hostname: text("hostname").notNull().default(""),
    queues: jsonb("queues").$type<string[]>().notNull().default([]),
    /** TaskType numbers; empty = every type. */
    types: jsonb("types").$type<number[]>().notNull().default([]),
    cpuCount: integer("cpu_count").notNull().default(0),
    memoryBytes: bigint("memory_bytes", { mode: "number" }).notNull().default(0),
    gpus: jsonb("gpus").$type<Record<string, unknown>[]>().notNull().default([]),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    concurrency: integer("concurrency").notNull().default(1),
    agent: text("agent").notNull().default(""),
    lastSeenTime: time("last_seen_time").notNull().defaultNow(),
    createTime: time("create_time").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("workers_workspace_worker_key").on(t.workspace, t.workerId), index("workers_workspace_seen_idx").on(t.workspace, t.lastSeenTime)],
);

/**
 * Tasks. The running attempt holds a lease (`leaseToken` until
 * `leaseUntil`) that each report extends; a task whose lease ran out is
 * queued again (or failed) by whichever replica sweeps first. `lastSeq` is
 * the sequence number of the task's latest event (task_events, task_logs,
 * task_metrics share it), bumped under the row lock.
 */
export const tasks = pgTable(
  "tasks",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name, { onDelete: "cascade" }),
    taskId: text("task_id").notNull(),
    /** modelreg.v1.TaskType number. */
    type: smallint("type").notNull(),
    description: text("description").notNull().default(""),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    template: text("template").notNull(),
    params: jsonb("params").$type<Record<string, unknown>>().notNull().default({}),
    /** The params as the creator gave them (before defaults), so a resume or update merges over what was asked. */
    givenParams: jsonb("given_params").$type<Record<string, unknown>>().notNull().default({}),
    queue: text("queue").notNull(),
    reqGpuCount: integer("req_gpu_count").notNull().default(0),
    reqGpuMemory: bigint("req_gpu_memory", { mode: "number" }).notNull().default(0),
    reqCpuCount: integer("req_cpu_count").notNull().default(0),
    reqLabels: jsonb("req_labels").$type<Record<string, string>>().notNull().default({}),
    /** The base version's name as resolved at creation, and its row while it exists. */
    baseVersion: text("base_version").notNull().default(""),
    baseVersionId: uuid("base_version_id").references(() => versions.id, { onDelete: "set null" }),
    model: text("model").notNull().default(""),
    modelId: uuid("model_id").references(() => models.id, { onDelete: "set null" }),
    parentTask: text("parent_task").notNull().default(""),
    parentTaskId: uuid("parent_task_id"),
    dataVersion: text("data_version").notNull().default(""),
    algorithmCode: text("algorithm_code").notNull().default(""),
    algorithmVersion: text("algorithm_version").notNull().default(""),
    /** modelreg.v1.TaskState number. */
    state: smallint("state").notNull(),
    progress: jsonb("progress").$type<Record<string, unknown>>().notNull().default({}),
    attempt: integer("attempt").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(3),
    /** `attempt` when the task was last resumed: attempts before it do not count against maxAttempts. */
    attemptsBefore: integer("attempts_before").notNull().default(0),
    workerRowId: uuid("worker_row_id").references(() => workers.id, { onDelete: "set null" }),
    worker: text("worker").notNull().default(""),
    leaseToken: text("lease_token").notNull().default(""),
    leaseUntil: time("lease_until"),
    /** Log lines recorded in the running attempt (the next line number it expects). */
    linesRecorded: bigint("lines_recorded", { mode: "number" }).notNull().default(0),
    stopRequested: boolean("stop_requested").notNull().default(false),
    cancelRequested: boolean("cancel_requested").notNull().default(false),
    errorMessage: text("error_message").notNull().default(""),
    result: jsonb("result").$type<Record<string, unknown>>().notNull().default({}),
    metrics: jsonb("metrics").$type<Record<string, number>>().notNull().default({}),
    /** The epoch the next attempt resumes from; null = from the start. */
    resumeEpoch: integer("resume_epoch"),
    lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
    logBytes: bigint("log_bytes", { mode: "number" }).notNull().default(0),
    droppedLines: bigint("dropped_lines", { mode: "number" }).notNull().default(0),
    revision: integer("revision").notNull().default(1),
    requestId: text("request_id"),
    creator: text("creator").notNull().default(""),
    /** Creation order: the tie-breaker of lists and the claim order. */
    seq: bigserial("seq", { mode: "number" }).notNull(),
    createTime: time("create_time").notNull().defaultNow(),
    updateTime: time("update_time").notNull().defaultNow(),
    startTime: time("start_time"),
    endTime: time("end_time"),
  },
  (t) => [
    uniqueIndex("tasks_workspace_task_key").on(t.workspace, t.taskId),
    uniqueIndex("tasks_workspace_request_key").on(t.workspace, t.requestId),
    index("tasks_workspace_seq_idx").on(t.workspace, t.seq),
    // Claims read QUEUED tasks of a workspace and queue in creation order.
    index("tasks_claim_idx").on(t.workspace, t.queue, t.seq).where(sql`state = 2`),
    // The lease sweep reads running tasks by lease end.
    index("tasks_lease_idx").on(t.leaseUntil).where(sql`state in (3, 6)`),
    index("tasks_parent_idx").on(t.parentTaskId),
    index("tasks_labels_idx").using("gin", sql`${t.labels} jsonb_path_ops`),
  ],
);

/** Events of a task other than log lines and metric points: state changes, progress, checkpoints. */
export const taskEvents = pgTable(
  "task_events",
  {
    taskId: uuid("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** 1 state change, 2 progress, 3 checkpoint. */
    kind: smallint("kind").notNull(),
    /** The event as the proto's JSON. */
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    time: time("time").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.seq] })],
);

/** Log lines, capped per task (the oldest are deleted first). */
export const taskLogs = pgTable(
  "task_logs",
  {
    taskId: uuid("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    attempt: integer("attempt").notNull(),
    text: text("text").notNull(),
    stream: text("stream").notNull().default(""),
    time: time("time").notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.seq] })],
);

/** Metric points, append-only; one per task, name and step (a repeat is ignored). */
export const taskMetrics = pgTable(
  "task_metrics",
  {
    taskId: uuid("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    step: bigint("step", { mode: "number" }).notNull(),
    value: doublePrecision("value").notNull(),
    epoch: integer("epoch").notNull().default(0),
    /** The report's event sequence number (all points of one report share it). */
    seq: bigint("seq", { mode: "number" }).notNull(),
    time: time("time").notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.name, t.step] }), index("task_metrics_seq_idx").on(t.taskId, t.seq)],
);

/** Checkpoints of tasks, one per epoch; only committed ones count. */
export const taskCheckpoints = pgTable(
  "task_checkpoints",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    taskId: uuid("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    epoch: integer("epoch").notNull(),
    /** modelreg.v1.CheckpointState: 1 pending, 2 committed. */
    state: smallint("state").notNull().default(1),
    attempt: integer("attempt").notNull(),
    metrics: jsonb("metrics").$type<Record<string, number>>().notNull().default({}),
    fileCount: integer("file_count").notNull().default(0),
    totalSize: bigint("total_size", { mode: "number" }).notNull().default(0),
    createTime: time("create_time").notNull().defaultNow(),
    commitTime: time("commit_time"),
  },
  (t) => [uniqueIndex("task_checkpoints_task_epoch_key").on(t.taskId, t.epoch)],
);

/** Files of checkpoints. */
export const taskCheckpointFiles = pgTable(
  "task_checkpoint_files",
  {
    checkpointId: uuid("checkpoint_id")
      .notNull()
      .references(() => taskCheckpoints.id, { onDelete: "cascade" }),
    ...fileColumns,
  },
  (t) => [primaryKey({ columns: [t.checkpointId, t.path] }), index("task_checkpoint_files_sha256_idx").on(t.sha256)],
);

/** Input (kind 1) and output (kind 2) files of tasks. */
export const taskFiles = pgTable(
  "task_files",
  {
    taskId: uuid("task_id")
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    kind: smallint("kind").notNull(),
    ...fileColumns,
  },
  (t) => [primaryKey({ columns: [t.taskId, t.kind, t.path] }), index("task_files_sha256_idx").on(t.sha256)],
);

/** A workspace's own params templates (the built-in ones live in code). */
export const paramTemplates = pgTable(
  "param_templates",
  {
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name, { onDelete: "cascade" }),
    templateId: text("template_id").notNull(),
    description: text("description").notNull().default(""),
    /** TaskType numbers. */
    types: jsonb("types").$type<number[]>().notNull(),
    schema: jsonb("schema").$type<Record<string, unknown>>().notNull(),
    createTime: time("create_time").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspace, t.templateId] })],
);

export type TaskRow = typeof tasks.$inferSelect;
export type WorkerRow = typeof workers.$inferSelect;
export type TaskCheckpointRow = typeof taskCheckpoints.$inferSelect;
export type ParamTemplateRow = typeof paramTemplates.$inferSelect;
