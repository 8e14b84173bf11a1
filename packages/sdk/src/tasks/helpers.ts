// The client's task helpers, apart from the raw TaskService and
// TaskWorkerService clients (`client.tasks`, `client.taskWorkers`) and
// named unlike any RPC: submitTask (not CreateTask/StartTask),
// followTask (not WatchTask), waitForTask, listAllTasks, runWorker.
import type { Client } from "@connectrpc/connect";
import type { Task, TaskService, TaskWorkerService } from "@modelreg/proto";
import type { TransferContext } from "../transfers/context.js";
import { runWorker } from "../worker/run-worker.js";
import type { RunWorkerOptions, WorkerHandle } from "../worker/types.js";
import { createTaskReadHelpers, type TaskReadHelpers } from "./read-members.js";
import { type SubmitTaskOptions, submitTask } from "./submit.js";

export interface TaskHelpers extends TaskReadHelpers {
  /**
   * Creates a task (params filled from its template's defaults by the
   * server), uploads its input files from `inputDir` (PREDICT) when the
   * workspace lacks them, and queues it; resolves with the task.
   */
  submitTask(options: SubmitTaskOptions): Promise<Task>;
  /**
   * Runs tasks: registers as a worker, claims tasks of `queues` (`concurrency`
   * at once), hands each to `handler` with a TaskContext, reports, and ends
   * each attempt by what the handler did. Returns at once; see WorkerHandle.
   */
  runWorker(options: RunWorkerOptions): WorkerHandle;
}

export interface TaskHelperContext {
  tasks: Client<typeof TaskService>;
  taskWorkers: Client<typeof TaskWorkerService>;
  transfers: TransferContext;
  workspace: string;
  accessKey: string | undefined;
}

export function createTaskHelpers(ctx: TaskHelperContext): TaskHelpers {
  const { tasks, workspace } = ctx;
  return {
    ...createTaskReadHelpers(tasks, workspace),
    submitTask: (options) => submitTask({ tasks, transfers: ctx.transfers, workspace }, options),
    runWorker: (options) => runWorker({ workers: ctx.taskWorkers, transfers: ctx.transfers, workspace, accessKey: ctx.accessKey }, options),
  };
}
