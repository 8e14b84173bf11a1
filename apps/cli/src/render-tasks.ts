// Views of tasks: one task as key/values, lists as tables (tasks,
// checkpoints, metrics, templates), and the small cells they share
// (progress, params as `key=value`). JSON views are the messages' proto
// JSON (see output.ts).
import type { JsonValue } from "@bufbuild/protobuf";
import {
  type Checkpoint,
  CheckpointState,
  CheckpointStateSchema,
  type LogLine,
  type MetricSeries,
  type ParamTemplate,
  type Task,
  type TaskProgress,
  type TaskState,
  TaskStateSchema,
} from "@modelreg/sdk";
import { enumWord } from "./enum-words.js";
import { formatLabels } from "./labels.js";
import { keyValues, lastSegment, metricValue, oneLine, type RenderOptions, table, time } from "./output.js";
import { formatBytes } from "./render-files.js";
import { taskTypeWord } from "./task-flags.js";

/** `queued`, `running`, `succeeded`, ...; `-` when unset. */
export function taskStateName(state: TaskState): string {
  return enumWord(TaskStateSchema, state);
}

/** `pending`, `committed`. */
export function checkpointStateName(state: CheckpointState): string {
  return enumWord(CheckpointStateSchema, state);
}

/** A param value as `--set` reads it back: strings bare unless they would read as JSON, everything else JSON. */
export function settingValue(value: JsonValue | undefined): string {
  if (typeof value !== "string") return JSON.stringify(value ?? null);
  try {
    JSON.parse(value);
    return JSON.stringify(value);
  } catch {
    return value;
  }
}

/** `key=value` lines, keys sorted. */
export function paramLines(params: Record<string, JsonValue | undefined> | undefined): string {
  return Object.keys(params ?? {})
    .sort()
    .map((k) => `${k}=${settingValue(params![k])}`)
    .join("\n");
}

/** `30% epoch 3/10 step 120/400: saving checkpoint` (without the percentage beside a bar); `-` before any report. */
export function progressText(p: TaskProgress | undefined, options: { percent?: boolean } = {}): string {
  if (!p) return "-";
  const parts: string[] = [];
  if (p.fraction > 0 && options.percent !== false) parts.push(`${Math.floor(p.fraction * 100)}%`);
  if (p.epoch > 0 || p.totalEpochs > 0) parts.push(`epoch ${p.epoch}${p.totalEpochs > 0 ? `/${p.totalEpochs}` : ""}`);
  if (p.step > 0n || p.totalSteps > 0n) parts.push(`step ${p.step}${p.totalSteps > 0n ? `/${p.totalSteps}` : ""}`);
  if (p.etaSeconds > 0n) parts.push(`eta ${duration(Number(p.etaSeconds))}`);
  const head = parts.join(" ");
  if (p.message) return head ? `${head}: ${p.message}` : p.message;
  return head || "-";
}

/** 95 -> `1m35s`. */
export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
}

/** `loss=0.31 accuracy=0.9`, names sorted. */
export function metricsText(metrics: Record<string, number>, separator = " "): string {
  return Object.keys(metrics)
    .sort()
    .map((k) => `${k}=${metricValue(metrics[k]!)}`)
    .join(separator);
}

function requirementsText(t: Task): string {
  const r = t.requirements;
  if (!r) return "";
  const parts: string[] = [];
  if (r.gpuCount > 0) parts.push(`${r.gpuCount} GPU${r.gpuCount > 1 ? "s" : ""}`);
  if (r.gpuMemoryBytes > 0n) parts.push(`${formatBytes(Number(r.gpuMemoryBytes))} free each`);
  if (r.cpuCount > 0) parts.push(`${r.cpuCount} CPUs`);
  if (Object.keys(r.labels).length > 0) parts.push(`labels ${formatLabels(r.labels)}`);
  return parts.join(", ");
}

export function renderTask(t: Task): string {
  const algorithm = t.algorithmCode ? `${t.algorithmCode}${t.algorithmVersion ? ` ${t.algorithmVersion}` : ""}` : "";
  return keyValues([
    ["Name", t.name],
    ["Type", taskTypeWord(t.type)],
    ["State", taskStateName(t.state)],
    ["Progress", progressText(t.progress)],
    ["Metrics", metricsText(t.metrics, "\n")],
    ["Description", t.description],
    ["Labels", Object.keys(t.labels).sort().map((k) => `${k}=${t.labels[k]}`).join("\n")],
    ["Template", t.template],
    ["Queue", t.queue],
    ["Requires", requirementsText(t)],
    ["Params", paramLines(t.params)],
    ["Base version", t.baseVersion],
    ["Model", t.model],
    ["Parent task", t.parentTask],
    ["Data version", t.dataVersion],
    ["Algorithm", algorithm],
    ["Attempt", `${t.attempt} of ${t.maxAttempts}`],
    ["Worker", t.worker],
    ["Lease expires", t.leaseExpireTime ? time(t.leaseExpireTime) : ""],
    ["Resume from", t.resumeCheckpoint],
    ["Input files", t.inputFiles.length > 0 ? String(t.inputFiles.length) : ""],
    ["Output files", t.outputFiles.map((f) => `${f.path} (${formatBytes(Number(f.sizeBytes))})`).join("\n")],
    ["Output versions", t.outputVersions.join("\n")],
    ["Result", t.result && Object.keys(t.result).length > 0 ? oneLine(JSON.stringify(t.result), 200) : ""],
    ["Error", t.errorMessage],
    ["Creator", t.creator],
    ["Created", time(t.createTime)],
    ["Started", t.startTime ? time(t.startTime) : ""],
    ["Ended", t.endTime ? time(t.endTime) : ""],
    ["Updated", time(t.updateTime)],
    ["Etag", t.etag],
  ]);
}

const METRICS_WIDTH = 40;

/** TASK, TYPE, STATE, PROGRESS, METRICS, QUEUE, CREATED. */
export function renderTasksTable(tasks: Task[], options: RenderOptions = {}): string {
  return table(
    ["TASK", "TYPE", "STATE", "PROGRESS", "METRICS", "QUEUE", "CREATED"],
    tasks.map((t) => [
      lastSegment(t.name),
      taskTypeWord(t.type),
      taskStateName(t.state),
      oneLine(progressText(t.progress), METRICS_WIDTH),
      oneLine(metricsText(t.metrics), METRICS_WIDTH),
      t.queue,
      time(t.createTime),
    ]),
    options,
  );
}

/** EPOCH, STATE, FILES, SIZE, METRICS, ATTEMPT, COMMITTED. */
export function renderCheckpointsTable(checkpoints: Checkpoint[], options: RenderOptions = {}): string {
  return table(
    ["EPOCH", "STATE", "FILES", "SIZE", "METRICS", "ATTEMPT", "COMMITTED"],
    checkpoints.map((c) => [
      String(c.epoch),
      checkpointStateName(c.state),
      String(c.fileCount),
      formatBytes(Number(c.totalSizeBytes)),
      oneLine(metricsText(c.metrics), METRICS_WIDTH),
      String(c.attempt),
      c.state === CheckpointState.COMMITTED ? time(c.commitTime) : "-",
    ]),
    options,
  );
}

/** METRIC, VALUE, STEP, EPOCH, POINTS: each series' latest point. */
export function renderLatestMetricsTable(series: MetricSeries[], options: RenderOptions = {}): string {
  return table(
    ["METRIC", "VALUE", "STEP", "EPOCH", "POINTS"],
    series.map((s) => {
      const last = s.points.at(-1);
      return [s.name, last ? metricValue(last.value) : "-", last ? String(last.step) : "-", last?.epoch ? String(last.epoch) : "-", String(s.totalPoints)];
    }),
    options,
  );
}

/** METRIC, STEP, EPOCH, VALUE, TIME: every point of each series (as downsampled). */
export function renderSeriesTable(series: MetricSeries[], options: RenderOptions = {}): string {
  return table(
    ["METRIC", "STEP", "EPOCH", "VALUE", "TIME"],
    series.flatMap((s) => s.points.map((p) => [s.name, String(p.step), p.epoch ? String(p.epoch) : "-", metricValue(p.value), time(p.time)])),
    options,
  );
}

/** TEMPLATE, TYPES, BUILT-IN, DESCRIPTION. */
export function renderTemplatesTable(templates: ParamTemplate[], options: RenderOptions = {}): string {
  return table(
    ["TEMPLATE", "TYPES", "BUILT-IN", "DESCRIPTION"],
    templates.map((t) => [t.templateId, t.types.map(taskTypeWord).join(","), t.builtIn ? "yes" : "no", oneLine(t.description, 60)]),
    options,
  );
}

/** A log line as `logs` prints it: its text, or with `timestamps` its time first. */
export function logLineText(line: LogLine, timestamps = false): string {
  return timestamps ? `${time(line.time)} ${line.text}` : line.text;
}
