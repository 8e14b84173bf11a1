// The rules of tasks that need no database: names, what a create, a list
// and an update must carry, and which state a task may move to from which.
import { TaskState, TaskStateSchema, TaskType, TaskTypeSchema } from "@modelreg/proto";
import { enumChoices, enumCodes, enumName } from "../shared/enum-codes.js";
import { FailedPreconditionError, InvalidArgumentError } from "../shared/errors.js";
import { type FilterExpr, parseFilter } from "../shared/filter/index.js";
import { type OrderBy, parseOrderBy } from "../shared/order-by.js";
import { parseModelName, parseVersionRefName, parseWorkspaceName } from "../shared/resource-names.js";
import { resolveUpdateMask } from "../shared/update-mask.js";
import { checkCommonFields, checkPageSize, checkRequestId, checkText, collect, printable, Violations } from "../shared/validation.js";
import type { TaskFields, TaskListOptions, TaskUpdate } from "./types.js";

/** Task ids and worker ids: lowercase letters, digits and `-`, starting with a letter. */
export const TASK_ID = /^[a-z][a-z0-9-]{0,62}$/;
/** Queue names. */
export const QUEUE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const DEFAULT_QUEUE = "default";
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_ATTEMPTS_LIMIT = 100;
export const MAX_INPUT_FILES = 10_000;

const TASK_FORM = "workspaces/{workspace}/tasks/{task}";
const ID_RULE = "1-63 lowercase letters, digits and '-', starting with a letter";

export interface TaskName {
  workspace: string;
  taskId: string;
}

export { taskResourceName } from "../shared/resource-names.js";
export const checkpointResourceName = (task: string, epoch: number): string => `${task}/checkpoints/${epoch}`;

function badName(field: string, value: string, form: string): InvalidArgumentError {
  const shown = value === "" ? "is required" : `"${printable(value)}" is not a valid name`;
  return InvalidArgumentError.field(field, `${shown}: expected ${form}`);
}

export function parseTaskName(field: string, value: string): TaskName {
  const p = value.split("/");
  if (p.length !== 4 || p[0] !== "workspaces" || p[2] !== "tasks" || !TASK_ID.test(p[3]!)) throw badName(field, value, TASK_FORM);
  const { workspace } = parseWorkspaceName(field, `workspaces/${p[1]}`);
  return { workspace, taskId: p[3]! };
}

/** `…/tasks/{task}/checkpoints/{epoch}`: the task and the epoch. */
export function parseCheckpointName(field: string, value: string): TaskName & { epoch: number } {
  const at = value.lastIndexOf("/checkpoints/");
  const epochText = at < 0 ? "" : value.slice(at + "/checkpoints/".length);
  if (at < 0 || !/^(0|[1-9][0-9]{0,8})$/.test(epochText)) throw badName(field, value, `${TASK_FORM}/checkpoints/{epoch}`);
  return { ...parseTaskName(field, value.slice(0, at)), epoch: Number(epochText) };
}

const TYPES = new Set(Object.values(enumCodes(TaskTypeSchema)));
export const typeName = (type: number): string => enumName(TaskTypeSchema, type);
export const stateName = (state: number): string => enumName(TaskStateSchema, state);

/** The types that work on an existing model: they need a base version or a parent task. */
const NEEDS_BASE = new Set<number>([TaskType.EVALUATE, TaskType.PRUNE_ANALYSIS, TaskType.PREDICT, TaskType.CONVERT]);

/** A create's arguments, checked: the workspace it goes into (params are checked against their template apart). */
export function checkCreate(parent: string, taskId: string, f: TaskFields, requestId: string): { workspace: string } {
  const v = new Violations();
  const workspace = collect(v, () => parseWorkspaceName("parent", parent))?.workspace ?? "";
  if (taskId !== "" && !TASK_ID.test(taskId)) v.add("task_id", `"${printable(taskId)}" is not a valid task id: use ${ID_RULE}`);
  if (!TYPES.has(f.type)) v.add("task.type", `${f.type === 0 ? "is required" : `${f.type} is not a task type`}: use ${enumChoices(TaskTypeSchema)}`);
  checkCommonFields(v, "task", f);
  if (f.queue !== "" && !QUEUE.test(f.queue)) v.add("task.queue", `"${printable(f.queue)}" is not a queue name: 1-63 lowercase letters, digits, '-' and '_'`);
  checkRequirements(v, f.requirements);
  if (f.baseVersion !== "") collect(v, () => parseVersionRefName("task.base_version", f.baseVersion));
  if (f.model !== "") collect(v, () => parseModelName("task.model", f.model));
  if (f.parentTask !== "") collect(v, () => parseTaskName("task.parent_task", f.parentTask));
  if (NEEDS_BASE.has(f.type) && f.baseVersion === "" && f.parentTask === "")
    v.add("task.base_version", `is required for ${typeName(f.type)} tasks (the version worked on), unless task.parent_task names a task whose checkpoint to use`);
  if (f.type === TaskType.PRUNE_TRAIN && f.parentTask === "") v.add("task.parent_task", "is required for PRUNE_TRAIN tasks: the TRAIN task to prune");
  checkText(v, "task.data_version", f.dataVersion, 128);
  checkText(v, "task.algorithm_code", f.algorithmCode, 128);
  checkText(v, "task.algorithm_version", f.algorithmVersion, 64);
  checkMaxAttempts(v, "task.max_attempts", f.maxAttempts);
  if (f.inputFiles.length > 0 && f.type !== TaskType.PREDICT) v.add("task.input_files", `only PREDICT tasks take input files; this is a ${typeName(f.type)} task`);
  if (f.inputFiles.length > MAX_INPUT_FILES) v.add("task.input_files", `has ${f.inputFiles.length} files; the limit is ${MAX_INPUT_FILES}`);
  checkRequestId(v, requestId);
  if (!v.empty) throw new InvalidArgumentError(v.list);
  return { workspace };
}

function checkRequirements(v: Violations, r: TaskFields["requirements"]): void {
  if (r.gpuCount < 0 || r.gpuCount > 64) v.add("task.requirements.gpu_count", `${r.gpuCount} is out of range: 0-64`);
  if (r.gpuMemoryBytes < 0) v.add("task.requirements.gpu_memory_bytes", "must not be negative");
  if (r.cpuCount < 0 || r.cpuCount > 4096) v.add("task.requirements.cpu_count", `${r.cpuCount} is out of range: 0-4096`);
  checkCommonFields(v, "task.requirements", { labels: r.labels });
}

function checkMaxAttempts(v: Violations, field: string, n: number): void {
  if (n < 0 || n > MAX_ATTEMPTS_LIMIT) v.add(field, `${n} is out of range: 1-${MAX_ATTEMPTS_LIMIT}, or 0 for ${DEFAULT_MAX_ATTEMPTS}`);
}

/** The id a task gets when its creator gives none: `train-3f9a0c1e`. */
export function generatedTaskId(type: number, random: string): string {
  return `${typeName(type).toLowerCase().replaceAll("_", "-")}-${random}`;
}

/** The keys ListTasks orders by; newest first by default. */
export const ORDER_KEYS = ["create_time", "update_time"] as const;

/** A list's arguments, checked and parsed. */
export function checkList(parent: string, opts: TaskListOptions): { workspace: string; limit: number; expr: FilterExpr; order: OrderBy } {
  const v = new Violations();
  const workspace = collect(v, () => parseWorkspaceName("parent", parent))?.workspace;
  const limit = checkPageSize(v, opts.pageSize);
  const expr = collect(v, () => parseFilter(opts.filter));
  const order = collect(v, () => parseOrderBy(opts.orderBy, [...ORDER_KEYS], [], { field: "create_time", desc: true }));
  if (!v.empty || !workspace || !expr || !order) throw new InvalidArgumentError(v.list);
  return { workspace, limit, expr, order };
}

export const UPDATABLE = ["description", "labels", "max_attempts", "params"] as const;
export type UpdatableField = (typeof UPDATABLE)[number];

/** An update's mask, resolved, with the masked fields checked; params only before the first run. */
export function checkUpdate(paths: string[], u: TaskUpdate, task: { name: string; state: number; attempt: number }): Set<UpdatableField> {
  const mask = resolveUpdateMask(paths, UPDATABLE);
  const v = new Violations();
  checkCommonFields(v, "task", { description: mask.has("description") ? u.description : undefined, labels: mask.has("labels") ? u.labels : undefined });
  if (mask.has("max_attempts")) checkMaxAttempts(v, "task.max_attempts", u.maxAttempts);
  if (!v.empty) throw new InvalidArgumentError(v.list);
  if (mask.has("params") && !neverRan(task))
    throw new FailedPreconditionError(
      "TASK_STARTED",
      `${task.name} has run already (${stateName(task.state)}, attempt ${task.attempt}): its params can no longer change; resume it with changed params instead`,
      { resource: task.name },
    );
  return mask;
}

const neverRan = (t: { state: number; attempt: number }) => (t.state === TaskState.PENDING || t.state === TaskState.QUEUED) && t.attempt === 0;

/** States in which a worker holds the task. */
export const HELD: readonly TaskState[] = [TaskState.RUNNING, TaskState.STOPPING];
/** States a task never leaves on its own. */
export const FINISHED: readonly TaskState[] = [TaskState.SUCCEEDED, TaskState.FAILED, TaskState.STOPPED, TaskState.CANCELLED];

export const isHeld = (state: number): boolean => (HELD as number[]).includes(state);
export const isFinished = (state: number): boolean => (FINISHED as number[]).includes(state);

/**
 * The states a task moves from, by the state it moves to. STOPPED and
 * FAILED are queued again by a resume; a held task goes back to QUEUED when
 * its lease is lost with attempts left.
 */
export const MOVES_TO: Readonly<Record<TaskState, readonly TaskState[]>> = {
  [TaskState.UNSPECIFIED]: [],
  [TaskState.PENDING]: [],
  [TaskState.QUEUED]: [TaskState.PENDING, TaskState.STOPPED, TaskState.FAILED, TaskState.RUNNING],
  [TaskState.RUNNING]: [TaskState.QUEUED],
  [TaskState.SUCCEEDED]: [TaskState.RUNNING, TaskState.STOPPING],
  [TaskState.FAILED]: [TaskState.RUNNING],
  [TaskState.STOPPING]: [TaskState.RUNNING],
  [TaskState.STOPPED]: [TaskState.PENDING, TaskState.QUEUED, TaskState.STOPPING, TaskState.RUNNING],
  [TaskState.CANCELLED]: [TaskState.PENDING, TaskState.QUEUED, TaskState.RUNNING, TaskState.STOPPING, TaskState.STOPPED, TaskState.FAILED],
};

export function mayMove(from: number, to: TaskState): boolean {
  return (MOVES_TO[to] as readonly number[]).includes(from);
}

/** Refuses a move the state machine does not allow, saying what would. */
export function checkMove(task: { name: string; state: number }, to: TaskState, action: string): void {
  requireState(task, MOVES_TO[to], action);
}

/** Refuses an action on a task in a state other than `allowed`, saying which states allow it. */
export function requireState(task: { name: string; state: number }, allowed: readonly TaskState[], action: string): void {
  if ((allowed as readonly number[]).includes(task.state)) return;
  const from = allowed.map(stateName);
  throw new FailedPreconditionError(
    `TASK_${stateName(task.state)}`,
    `cannot ${action} ${task.name}: it is ${stateName(task.state)}; only a task that is ${from.length > 1 ? `${from.slice(0, -1).join(", ")} or ${from.at(-1)}` : from[0]} can be`,
    { resource: task.name, state: stateName(task.state) },
  );
}

/** Only a task no worker holds can be deleted. */
export function checkDelete(task: { name: string; state: number }): void {
  if (isHeld(task.state))
    throw new FailedPreconditionError("TASK_RUNNING", `${task.name} is ${stateName(task.state)}: cancel it (or wait for it to finish) before deleting it`, {
      resource: task.name,
    });
}

/** ResumeTask's epoch: a non-negative number when given. */
export function checkResumeEpoch(epoch: number | undefined): void {
  if (epoch !== undefined && epoch < 0) throw InvalidArgumentError.field("epoch", `${epoch} is not an epoch: epochs count from 0`);
}
