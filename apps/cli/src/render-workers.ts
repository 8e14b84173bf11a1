// How `modelreg workers` prints the machines that run tasks (PaddleX's
// `/system` view): a table of every worker, and one worker whole, with the
// memory of each GPU.
import type { GpuInfo, Worker } from "@modelreg/sdk";
import { formatLabels } from "./labels.js";
import { keyValues, lastSegment, oneLine, type RenderOptions, table, time } from "./output.js";
import { formatBytes } from "./render-files.js";
import { taskTypeWord } from "./task-flags.js";

const bytes = (n: bigint) => formatBytes(Number(n));

/** `2 × NVIDIA A100 (61.2 GiB of 80.0 GiB free)`: the GPUs by model, with their free memory in all. */
function gpuSummary(gpus: GpuInfo[]): string {
  if (gpus.length === 0) return "";
  const names = [...new Set(gpus.map((g) => g.name || "GPU"))];
  const total = gpus.reduce((n, g) => n + g.memoryTotalBytes, 0n);
  const free = gpus.reduce((n, g) => n + g.memoryFreeBytes, 0n);
  const memory = total > 0n ? ` (${bytes(free)} of ${bytes(total)} free)` : "";
  return `${gpus.length} × ${names.join(", ")}${memory}`;
}

/** One line per GPU: index, model, memory total/used/free, utilisation. */
function gpuLines(gpus: GpuInfo[]): string {
  return gpus
    .map((g) => {
      const use = g.utilization > 0 ? `, ${Math.round(g.utilization * 100)}% busy` : "";
      return `${g.index}: ${g.name || "GPU"}, ${bytes(g.memoryTotalBytes)} total, ${bytes(g.memoryUsedBytes)} used, ${bytes(g.memoryFreeBytes)} free${use}`;
    })
    .join("\n");
}

/** WORKER, ONLINE, QUEUES, CPUS, MEMORY, GPUS, RUNNING, LAST SEEN. */
export function renderWorkersTable(workers: Worker[], options: RenderOptions = {}): string {
  return table(
    ["WORKER", "ONLINE", "QUEUES", "CPUS", "MEMORY", "GPUS", "RUNNING", "LAST SEEN"],
    workers.map((w) => [
      lastSegment(w.name),
      w.online ? "yes" : "no",
      w.queues.join(","),
      w.cpuCount > 0 ? String(w.cpuCount) : "",
      w.memoryBytes > 0n ? bytes(w.memoryBytes) : "",
      oneLine(gpuSummary(w.gpus), 60),
      w.concurrency > 0 ? `${w.runningTasks.length}/${w.concurrency}` : String(w.runningTasks.length),
      time(w.lastSeenTime),
    ]),
    options,
  );
}

export function renderWorker(w: Worker): string {
  return keyValues([
    ["Name", w.name],
    ["Online", w.online ? "yes" : "no (not seen within the last lease period)"],
    ["Hostname", w.hostname],
    ["Agent", w.agent],
    ["Queues", w.queues.join(", ")],
    ["Task types", w.types.length > 0 ? w.types.map(taskTypeWord).join(", ") : "all"],
    ["Labels", formatLabels(w.labels).replaceAll(",", "\n")],
    ["CPUs", w.cpuCount > 0 ? String(w.cpuCount) : ""],
    ["Memory", w.memoryBytes > 0n ? bytes(w.memoryBytes) : ""],
    ["GPUs", gpuLines(w.gpus)],
    ["Concurrency", String(w.concurrency)],
    ["Running", w.runningTasks.map(lastSegment).join("\n")],
    ["Last seen", time(w.lastSeenTime)],
    ["Registered", time(w.createTime)],
  ]);
}
