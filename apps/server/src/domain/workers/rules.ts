// The rules of workers that need no database: names and what a
// registration must carry.
import { TaskTypeSchema } from "@modelreg/proto";
import { enumCodes } from "../shared/enum-codes.js";
import { InvalidArgumentError } from "../shared/errors.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import { checkCommonFields, checkText, collect, printable, Violations } from "../shared/validation.js";
import type { GpuRecord, WorkerFields } from "./types.js";

/** Worker ids: lowercase letters, digits and `-`, starting with a letter. */
export const WORKER_ID = /^[a-z][a-z0-9-]{0,62}$/;
const QUEUE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_QUEUES = 32;
const MAX_GPUS = 64;
const TYPES = new Set(Object.values(enumCodes(TaskTypeSchema)));

export interface WorkerName {
  workspace: string;
  workerId: string;
}

export const workerResourceName = (workspace: string, workerId: string): string => `workspaces/${workspace}/workers/${workerId}`;

export function parseWorkerName(field: string, value: string): WorkerName {
  const p = value.split("/");
  if (p.length !== 4 || p[0] !== "workspaces" || p[2] !== "workers" || !WORKER_ID.test(p[3]!)) {
    const shown = value === "" ? "is required" : `"${printable(value)}" is not a valid name`;
    throw InvalidArgumentError.field(field, `${shown}: expected workspaces/{workspace}/workers/{worker}`);
  }
  return { workspace: parseWorkspaceName(field, `workspaces/${p[1]}`).workspace, workerId: p[3]! };
}

/** A registration, checked: the workspace it goes into. */
export function checkRegister(parent: string, workerId: string, f: WorkerFields): { workspace: string } {
  const v = new Violations();
  const workspace = collect(v, () => parseWorkspaceName("parent", parent))?.workspace ?? "";
  if (!WORKER_ID.test(workerId))
    v.add("worker_id", `${workerId === "" ? "is required" : `"${printable(workerId)}" is not a worker id`}: 1-63 lowercase letters, digits and '-', starting with a letter`);
  if (f.queues.length === 0) v.add("worker.queues", "is required: the queues the worker takes tasks from, e.g. default");
  if (f.queues.length > MAX_QUEUES) v.add("worker.queues", `has ${f.queues.length} queues; the limit is ${MAX_QUEUES}`);
  for (const q of f.queues) if (!QUEUE.test(q)) v.add("worker.queues", `"${printable(q)}" is not a queue name: 1-63 lowercase letters, digits, '-' and '_'`);
  for (const t of f.types) if (!TYPES.has(t)) v.add("worker.types", `${t} is not a task type`);
  checkText(v, "worker.hostname", f.hostname, 255);
  checkText(v, "worker.agent", f.agent, 255);
  if (f.cpuCount < 0) v.add("worker.cpu_count", "must not be negative");
  if (f.memoryBytes < 0) v.add("worker.memory_bytes", "must not be negative");
  if (f.concurrency < 0 || f.concurrency > 256) v.add("worker.concurrency", `${f.concurrency} is out of range: 1-256, or 0 for 1`);
  checkCommonFields(v, "worker", { labels: f.labels });
  checkGpus(v, "worker.gpus", f.gpus);
  if (!v.empty) throw new InvalidArgumentError(v.list);
  return { workspace };
}

export function checkGpus(v: Violations, field: string, gpus: GpuRecord[]): void {
  if (gpus.length > MAX_GPUS) v.add(field, `has ${gpus.length} GPUs; the limit is ${MAX_GPUS}`);
  gpus.forEach((g, i) => {
    if (g.memoryTotalBytes < 0 || g.memoryUsedBytes < 0 || g.memoryFreeBytes < 0) v.add(`${field}[${i}]`, "memory sizes must not be negative");
    if (!(g.utilization >= 0 && g.utilization <= 1)) v.add(`${field}[${i}].utilization`, `${g.utilization} is out of range: 0 to 1`);
    checkText(v, `${field}[${i}].name`, g.name, 255);
  });
}

/** Free memory of the GPUs, largest first: a task needing n GPUs with m bytes each fits when the n-th is at least m. */
export function freeMemoryDescending(gpus: GpuRecord[]): number[] {
  return gpus.map((g) => g.memoryFreeBytes).sort((a, b) => b - a);
}
