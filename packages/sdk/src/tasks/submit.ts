// submitTask(): a task from the caller's point of view, in one call.
// CreateTask with short names expanded; when the task has input files (a
// PREDICT task given `inputDir`), the content the workspace lacks is sent
// over the signed upload URLs the answer carries, then StartTask queues it.
import type { JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";
import { type Task, type TaskSchema, type TaskService, TaskState, type TaskType } from "@modelreg/proto";
import { modelName, versionName, workspaceName } from "../names.js";
import type { TransferContext, TransferProgress } from "../transfers/context.js";
import { hashDirectory, manifestOf, sendStagedFiles } from "../transfers/staged-files.js";
import { taskName, type TaskTypeName, taskTypeOf } from "./names.js";

export interface SubmitTaskOptions {
  /** What the task does: TaskType.TRAIN or "TRAIN", ... */
  type: TaskType | TaskTypeName;
  /** The task's id (default: the server's `{type}-{8 hex}`). */
  taskId?: string | undefined;
  /** Params to change from the template's defaults, e.g. `{ num_epochs: 10 }`. */
  params?: JsonObject | undefined;
  /** The model outputs become versions of (short or full name). */
  model?: string | undefined;
  /** A version to start from (`model:1.0.0`, `model@alias` or a full name). */
  baseVersion?: string | undefined;
  /** The task this one builds on (id or full name). */
  parentTask?: string | undefined;
  /** Any other field of the task (template, queue, requirements, labels, data_version, ...). */
  task?: MessageInitShape<typeof TaskSchema> | undefined;
  /** Input files (PREDICT): every regular file under this directory, by relative path. */
  inputDir?: string | undefined;
  /** Makes the call idempotent: a retry with the same id returns the same task. */
  requestId?: string | undefined;
  /** The workspace (default: the client's). */
  workspace?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Called as input bytes are sent. */
  onProgress?: ((progress: TransferProgress) => void) | undefined;
}

export interface SubmitContext {
  tasks: Client<typeof TaskService>;
  transfers: TransferContext;
  workspace: string;
}

/** Creates the task, uploads its input files, queues it; resolves with the task (QUEUED, or further). */
export async function submitTask(ctx: SubmitContext, options: SubmitTaskOptions): Promise<Task> {
  const ws = options.workspace ?? ctx.workspace;
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const inputs = options.inputDir ? await hashDirectory(options.inputDir, { signal: options.signal }) : [];
  // The caller's fields first; those this call names win.
  const task = {
    ...(options.task as object | undefined),
    type: taskTypeOf(options.type),
    ...(options.params ? { params: options.params } : {}),
    ...(options.model ? { model: modelName(ws, options.model) } : {}),
    ...(options.baseVersion ? { baseVersion: versionName(ws, options.baseVersion) } : {}),
    ...(options.parentTask ? { parentTask: taskName(ws, options.parentTask) } : {}),
    ...(inputs.length > 0 ? { inputFiles: manifestOf(inputs) } : {}),
  } as MessageInitShape<typeof TaskSchema>;
  const created = await ctx.tasks.createTask({ parent: workspaceName(ws), taskId: options.taskId ?? "", task, requestId: options.requestId ?? "" }, call);
  const t = created.task!;
  if (t.state !== TaskState.PENDING) return t;
  // Input files named in `task` without `inputDir`: their content must be held already.
  if (inputs.length > 0)
    await sendStagedFiles(ctx.transfers, created.uploads, inputs, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  return (await ctx.tasks.startTask({ name: t.name }, call)).task!;
}
