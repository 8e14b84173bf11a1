// The client's task helpers, apart from the raw TaskService and
// TaskWorkerService clients (`client.tasks`, `client.taskWorkers`) and
// named unlike any RPC: submitTask (not CreateTask/StartTask),
// followTask (not WatchTask), waitForTask, listAllTasks, runWorker.
import { type CallOptions, type Client, createClient, type Transport } from "@connectrpc/connect";
import { type Task, TaskService, TaskWorkerService } from "@modelreg/proto";
import { workspaceName } from "../names.js";
import { paginate } from "../paginate.js";
import type { TransferContext } from "../transfers/context.js";
import { runWorker } from "../worker/run-worker.js";
import type { RunWorkerOptions, WorkerHandle } from "../worker/types.js";
import { type FollowTaskOptions, followTask, type TaskWatchItem } from "./follow.js";
import { taskName } from "./names.js";
import { type SubmitTaskOptions, submitTask } from "./submit.js";
import { type WaitForTaskOptions, waitForTask } from "./wait.js";

export interface TaskHelpers {
  /**
   * Creates a task (params filled from its template's defaults by the
   * server), uploads its input files from `inputDir` (PREDICT) when the
   * workspace lacks them, and queues it; resolves with the task.
   */
  submitTask(options: SubmitTaskOptions): Promise<Task>;
  /**
   * The task (its id or full name) as it is, then every event after
   * `afterSeq` in order (state changes, progress, metric points, log lines,
   * checkpoints), then each new one as it happens; a broken stream is
   * picked up again where it broke, with no gap and no repeat. Ends after
   * the task reaches a final state unless `follow`.
   */
  followTask(task: string, options?: FollowTaskOptions): AsyncGenerator<TaskWatchItem, void, undefined>;
  /** Resolves with the task once it is SUCCEEDED, FAILED, STOPPED or CANCELLED; DeadlineExceeded after `timeoutMs`. */
  waitForTask(task: string, options?: WaitForTaskOptions): Promise<Task>;
  /** Every task of the workspace matching `filter` (e.g. `state = RUNNING AND type = TRAIN`), newest first unless `orderBy`. */
  listAllTasks(request?: { filter?: string; orderBy?: string; pageSize?: number }, options?: CallOptions): AsyncIterable<Task>;
  /**
   * Runs tasks: registers as a worker, claims tasks of `queues` (`concurrency`
   * at once), hands each to `handler` with a TaskContext, reports, and ends
   * each attempt by what the handler did. Returns at once; see WorkerHandle.
   */
  runWorker(options: RunWorkerOptions): WorkerHandle;
  /** `train-3f9a0c1e` -> `workspaces/{w}/tasks/train-3f9a0c1e`. */
  taskName(ref: string): string;
}

export interface TaskHelperContext {
  tasks: Client<typeof TaskService>;
  taskWorkers: Client<typeof TaskWorkerService>;
  transfers: TransferContext;
  workspace: string;
  accessKey: string | undefined;
}

/** The raw TaskService and TaskWorkerService clients over `transport`, and the helpers over them. */
export function createTaskMembers(
  transport: Transport,
  ctx: Omit<TaskHelperContext, "tasks" | "taskWorkers">,
): TaskHelpers & { tasks: Client<typeof TaskService>; taskWorkers: Client<typeof TaskWorkerService> } {
  const tasks = createClient(TaskService, transport);
  const taskWorkers = createClient(TaskWorkerService, transport);
  return { tasks, taskWorkers, ...createTaskHelpers({ ...ctx, tasks, taskWorkers }) };
}

export function createTaskHelpers(ctx: TaskHelperContext): TaskHelpers {
  const { tasks, workspace } = ctx;
  return {
    submitTask: (options) => submitTask({ tasks, transfers: ctx.transfers, workspace }, options),
    followTask: (task, options) => followTask(tasks, taskName(workspace, task), options),
    waitForTask: (task, options) => waitForTask(tasks, taskName(workspace, task), options),
    listAllTasks: (request = {}, callOptions) =>
      paginate(async (pageToken) => {
        const res = await tasks.listTasks({ parent: workspaceName(workspace), ...request, pageToken }, callOptions);
        return { items: res.tasks, nextPageToken: res.nextPageToken };
      }),
    runWorker: (options) => runWorker({ workers: ctx.taskWorkers, transfers: ctx.transfers, workspace, accessKey: ctx.accessKey }, options),
    taskName: (ref) => taskName(workspace, ref),
  };
}
