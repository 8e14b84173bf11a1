// Task names, types and states as people type and read them:
//   "train-3f9a0c1e"                       -> workspaces/{w}/tasks/train-3f9a0c1e
//   "workspaces/w/tasks/train-3f9a0c1e"    -> unchanged
// Types as the TaskType enum or its name ("TRAIN", "train", "TASK_TYPE_TRAIN").
import { TaskState, TaskType } from "@modelreg/proto";
import { workspaceName } from "../names.js";

export type TaskTypeName = "TRAIN" | "EVALUATE" | "PRUNE_ANALYSIS" | "PRUNE_TRAIN" | "PREDICT" | "CONVERT";

const FULL_TASK = /^workspaces\/[^/]+\/tasks\/[^/]+$/;

/** A task reference (its id, or its full name) as the task's resource name. */
export function taskName(workspace: string, ref: string): string {
  if (ref.startsWith("workspaces/")) {
    if (!FULL_TASK.test(ref)) throw new Error(`"${ref}" is not a task name: use workspaces/{w}/tasks/{task} or the task's id`);
    return ref;
  }
  if (ref === "" || ref.includes("/")) throw new Error(`"${ref}" is not a task id: use the last part of its name, e.g. train-3f9a0c1e`);
  return `${workspaceName(workspace)}/tasks/${ref}`;
}

/** TaskType from the enum or its name; throws naming the types there are. */
export function taskTypeOf(type: TaskType | TaskTypeName | string): TaskType {
  if (typeof type === "number") {
    if (!TaskType[type] || type === TaskType.UNSPECIFIED) throw new Error(`${type} is not a task type`);
    return type;
  }
  const key = type.toUpperCase().replace(/^TASK_TYPE_/, "");
  const value = (TaskType as unknown as Record<string, number>)[key];
  if (value === undefined || value === TaskType.UNSPECIFIED) {
    const names = Object.keys(TaskType).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
    throw new Error(`"${type}" is not a task type: use one of ${names.join(", ")}`);
  }
  return value as TaskType;
}

/** SUCCEEDED, FAILED, STOPPED, CANCELLED: where a task rests unless resumed. */
export function isFinalState(state: TaskState): boolean {
  return state === TaskState.SUCCEEDED || state === TaskState.FAILED || state === TaskState.STOPPED || state === TaskState.CANCELLED;
}

/** QUEUED, RUNNING, ... */
export function taskStateName(state: TaskState): string {
  return TaskState[state] ?? String(state);
}
