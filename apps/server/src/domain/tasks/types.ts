// The records of tasks as the domain hands them out, the fields a caller
// sets, and the events of a task.
import type { TaskCheckpointRow, TaskRow } from "@modelreg/db";
import type { FileSpec } from "../files/index.js";

export type { TaskCheckpointRow, TaskRow } from "@modelreg/db";

/** What a worker must offer. */
export interface Requirements {
  gpuCount: number;
  gpuMemoryBytes: number;
  cpuCount: number;
  labels: Record<string, string>;
}

/** The fields CreateTask sets (output-only ones are not here). */
export interface TaskFields {
  type: number;
  description: string;
  labels: Record<string, string>;
  template: string;
  params: Record<string, unknown>;
  queue: string;
  requirements: Requirements;
  baseVersion: string;
  model: string;
  parentTask: string;
  dataVersion: string;
  algorithmCode: string;
  algorithmVersion: string;
  maxAttempts: number;
  inputFiles: FileSpec[];
}

export interface CreateTaskInput {
  parent: string;
  taskId: string;
  task: TaskFields;
  requestId: string;
  validateOnly: boolean;
  /** The caller's user, recorded as the creator. */
  creator: string;
  /** The caller's key, for the per-key limits of input uploads. */
  accessKeyId: string;
}

/** A file of a task's inputs, outputs or checkpoint. */
export type TaskFile = FileSpec;

/** A task with the names and files around it. */
export interface TaskView {
  row: TaskRow;
  /** `workspaces/{w}/tasks/{task}` */
  name: string;
  inputFiles: TaskFile[];
  outputFiles: TaskFile[];
  /** Versions whose lineage names this task, oldest first. */
  outputVersions: string[];
  /** `.../checkpoints/{epoch}` the next attempt resumes from, or "". */
  resumeCheckpoint: string;
}

export interface TaskListOptions {
  pageSize: number;
  pageToken: string;
  filter: string;
  orderBy: string;
}

export interface TaskPage {
  tasks: TaskView[];
  nextPageToken: string;
}

/** The fields UpdateTask may change. */
export interface TaskUpdate {
  etag: string;
  description: string;
  labels: Record<string, string>;
  maxAttempts: number;
  params: Record<string, unknown>;
}

export interface ProgressRecord {
  epoch: number;
  totalEpochs: number;
  step: number;
  totalSteps: number;
  fraction: number;
  message: string;
  etaSeconds: number;
  /** ISO time it was reported. */
  reportTime?: string;
}

export interface MetricPointRecord {
  name: string;
  step: number;
  value: number;
  epoch: number;
  time: Date;
}

export interface LogLineRecord {
  seq: number;
  text: string;
  stream: string;
  attempt: number;
  time: Date;
}

/** A checkpoint with its files. */
export interface CheckpointView {
  row: TaskCheckpointRow;
  /** `workspaces/{w}/tasks/{t}/checkpoints/{epoch}` */
  name: string;
  files: TaskFile[];
}

/** A change of state, as task_events holds it. */
export interface StateChangeRecord {
  state: number;
  previousState: number;
  message: string;
  attempt: number;
  worker: string;
}

/** One event of a task, in sequence order. */
export type TaskEventRecord = { seq: number; time: Date } & (
  | { kind: "state"; change: StateChangeRecord }
  | { kind: "progress"; progress: ProgressRecord }
  | { kind: "metrics"; points: MetricPointRecord[] }
  | { kind: "logs"; lines: LogLineRecord[] }
  | { kind: "checkpoint"; checkpoint: CheckpointView }
);

/** task_events.kind */
export const EVENT_KIND = { state: 1, progress: 2, checkpoint: 3 } as const;
