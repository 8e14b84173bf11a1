// The task helpers that only read TaskService, shared by the Node client
// (tasks/helpers.ts adds submitTask and runWorker) and the browser one: a
// task's events as they happen, waiting for its end, every task of the
// workspace and every worker, short task names. No node: module here.
import type { CallOptions, Client } from "@connectrpc/connect";
import type { Task, TaskService, Worker } from "@modelreg/proto";
import { workspaceName } from "../names.js";
import { paginate } from "../paginate.js";
import { type FollowTaskOptions, followTask, type TaskWatchItem } from "./follow.js";
import { taskName } from "./names.js";
import { type WaitForTaskOptions, waitForTask } from "./wait.js";

export interface TaskReadHelpers {
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
  /** Every worker registered in the workspace (the machines that run its tasks), or only those seen within the last lease period. */
  listAllWorkers(request?: { onlineOnly?: boolean; pageSize?: number }, options?: CallOptions): AsyncIterable<Worker>;
  /** `train-3f9a0c1e` -> `workspaces/{w}/tasks/train-3f9a0c1e`. */
  taskName(ref: string): string;
}

export function createTaskReadHelpers(tasks: Client<typeof TaskService>, workspace: string): TaskReadHelpers {
  return {
    followTask: (task, options) => followTask(tasks, taskName(workspace, task), options),
    waitForTask: (task, options) => waitForTask(tasks, taskName(workspace, task), options),
    listAllTasks: (request = {}, callOptions) =>
      paginate(async (pageToken) => {
        const res = await tasks.listTasks({ parent: workspaceName(workspace), ...request, pageToken }, callOptions);
        return { items: res.tasks, nextPageToken: res.nextPageToken };
      }),
    listAllWorkers: (request = {}, callOptions) =>
      paginate(async (pageToken) => {
        const res = await tasks.listWorkers({ parent: workspaceName(workspace), ...request, pageToken }, callOptions);
        return { items: res.workers, nextPageToken: res.nextPageToken };
      }),
    taskName: (ref) => taskName(workspace, ref),
  };
}
