// The worker runtime as its callers see it: runWorker's options, the
// handle it returns, and what a handler is handed (TaskContext) and gives
// back (TaskResult).
import type { JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import type { Checkpoint, GpuInfoSchema, Task, TaskType, Version, VersionFile, VersionSchema, Worker } from "@modelreg/proto";
import type { TaskTypeName } from "../tasks/names.js";
import type { DownloadedFile } from "../transfers/download.js";

export type GpuInfoInit = MessageInitShape<typeof GpuInfoSchema>;

export interface RunWorkerOptions {
  /** Queues to take tasks from (at least one). */
  queues: string[];
  /** Task types it runs (default: all). */
  types?: (TaskType | TaskTypeName)[] | undefined;
  /** Runs one task. */
  handler: TaskHandler;
  /** Tasks run at once (default 1). */
  concurrency?: number | undefined;
  /** The worker's stable id: 1-63 lowercase letters, digits and `-`, from a letter (default: from the host name). */
  workerId?: string | undefined;
  /** Default: os.hostname(). */
  hostname?: string | undefined;
  /** The GPUs: as they are, or a function read at registration and at each claim (free memory changes). */
  gpus?: (GpuInfoInit[] | (() => GpuInfoInit[] | Promise<GpuInfoInit[]>)) | undefined;
  /** Labels matched against tasks' requirements, e.g. `{ cuda: "12" }`. */
  labels?: Record<string, string> | undefined;
  /** Aborting it stops the worker as stop() does. */
  signal?: AbortSignal | undefined;
  /** How long one ClaimTask waits for work, in seconds (default 30). */
  waitSeconds?: number | undefined;
  /** The workspace (default: the client's). */
  workspace?: string | undefined;
  /**
   * Told of what the worker rides out or cannot do anything about: a
   * transient failure being retried, a report refused, a task whose
   * completion failed. Default: console.warn.
   */
  onError?: ((err: unknown, what: string) => void) | undefined;
}

export interface WorkerHandle {
  /** The worker as registered (rejects when registration failed). */
  readonly registered: Promise<Worker>;
  /**
   * Stops gracefully: no new claims; running handlers see their signal
   * fire (reason: the worker is shutting down) and their tasks are handed
   * back (FailTask, retryable) once they return. Resolves with `done`.
   */
  stop(): Promise<void>;
  /** Resolves when every loop ended after stop(); rejects when the worker cannot go on (e.g. a key without the worker role). */
  readonly done: Promise<void>;
}

/** What a handler gives back; every field optional. */
export interface TaskResult {
  /** The task's result, e.g. an evaluation's confusion matrix (at most 1 MiB as JSON). */
  result?: JsonObject | undefined;
  /** Output files: every regular file under this directory, uploaded and recorded on the task. */
  outputDir?: string | undefined;
  /** Final metrics, merged into the task's. */
  metrics?: Record<string, number> | undefined;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a handler declared on its own that returns nothing is typed Promise<void>.
export type TaskHandler = (ctx: TaskContext) => Promise<TaskResult | undefined | void>;

export interface ProgressUpdate {
  epoch?: number | undefined;
  totalEpochs?: number | undefined;
  step?: number | undefined;
  totalSteps?: number | undefined;
  /** 0 to 1. */
  fraction?: number | undefined;
  message?: string | undefined;
  etaSeconds?: number | undefined;
}

export interface RegisterVersionOptions {
  /** A committed checkpoint's epoch: its files become the version's. */
  epoch?: number | undefined;
  /** Or a directory: its files are uploaded (what the workspace lacks) and become the version's. */
  dir?: string | undefined;
  /** The model (short or full name; default: the task's). */
  model?: string | undefined;
  /** The version id (default: the next). */
  versionId?: string | undefined;
  /** Description, labels, metadata, ...; lineage names the task, its algorithm and data version unless set. */
  version?: MessageInitShape<typeof VersionSchema> | undefined;
  /** Makes the call idempotent (default: one made up per call, so the SDK's own retries are safe). */
  requestId?: string | undefined;
}

export interface TaskContext {
  /** The task as claimed (RUNNING). */
  readonly task: Task;
  /** The task's params as a plain object. */
  readonly params: JsonObject;
  /** The claim's `_alg_model_params` JSON, with this worker's access key added, for createRegistryClient.fromParams. */
  readonly algModelParams: string;
  /** Fires on a stop or cancel request, a lost lease, or the worker's shutdown; its reason (an AbortError) says which. */
  readonly signal: AbortSignal;
  readonly stopRequested: boolean;
  readonly cancelRequested: boolean;
  /** The checkpoint this attempt resumes from (committed, files with signed URLs), or undefined to start from the beginning. */
  readonly resumeFrom: Checkpoint | undefined;
  /** The base version's files (or a parent task's checkpoint's), with signed URLs. */
  readonly baseFiles: VersionFile[];
  /** The task's input files (PREDICT), with signed URLs. */
  readonly inputFiles: VersionFile[];
  /** A line (or lines) of the task's log; `stream` e.g. "stdout", "stderr". Sent in batches. */
  log(text: string, stream?: string): void;
  /** One metric point; a point of a name and step already recorded is ignored. Sent in batches. */
  metric(name: string, value: number, step: number, epoch?: number): void;
  /** The progress now (sent with the next report). */
  progress(p: ProgressUpdate): void;
  /** Sends what log, metric and progress gathered now. */
  flush(): Promise<void>;
  /** Saves every file under `dir` as the checkpoint of `epoch`: uploaded, verified and committed (works after a stop request too). */
  saveCheckpoint(dir: string, epoch: number, metrics?: Record<string, number>): Promise<Checkpoint>;
  /** Downloads resumeFrom's files under `dir`, sha256-checked; [] when there is none. */
  downloadResume(dir: string): Promise<DownloadedFile[]>;
  /** Downloads baseFiles under `dir`. */
  downloadBase(dir: string): Promise<DownloadedFile[]>;
  /** Downloads inputFiles under `dir`. */
  downloadInputs(dir: string): Promise<DownloadedFile[]>;
  /** Makes a checkpoint (`epoch`) or a directory's files (`dir`) a READY version whose lineage names this task. */
  registerVersion(options: RegisterVersionOptions): Promise<Version>;
}
