// `modelreg tasks watch`: a task as it runs. On a terminal, a view redrawn in
// place (state, a progress bar, the latest metrics, the last checkpoint and
// the log tail); otherwise one plain line per thing that happened, for logs
// and CI; with -o json each WatchTask message as proto JSON, one per line
// (-o yaml: one YAML document each).
// cli-progress (the transfers' bar) draws a single line and owns the
// cursor; this view has several lines, so it redraws them itself with two
// ANSI sequences (cursor up, clear to the end of the screen).
import { create, toJson } from "@bufbuild/protobuf";
import { type Checkpoint, type LogLine, type MetricPoint, type Task, type TaskEvent, TaskState, type TaskWatchItem, WatchTaskResponseSchema } from "@modelreg/sdk";
import type { CommandContext } from "./context.js";
import { formatBytes } from "./render-files.js";
import { metricsText, progressText, taskStateName } from "./render-tasks.js";
import { taskTypeWord } from "./task-flags.js";
import { type DataFormat, lastSegment, metricValue, streamItemText } from "./output.js";

/** What the view shows, updated by each message. */
export interface WatchView {
  task: Task | undefined;
  metrics: Record<string, number>;
  checkpoint: Checkpoint | undefined;
  /** The last lines of the log, oldest first. */
  logs: LogLine[];
  /** The newest log line's sequence number: lines at or below it are not shown again. */
  lastLogSeq: bigint;
  /** How many log lines the view keeps. */
  logLimit: number;
}

export function createWatchView(logLimit: number): WatchView {
  return { task: undefined, metrics: {}, checkpoint: undefined, logs: [], lastLogSeq: 0n, logLimit };
}

export function addLogLines(view: WatchView, lines: LogLine[]): LogLine[] {
  const fresh = lines.filter((l) => l.seq > view.lastLogSeq);
  if (fresh.length === 0) return fresh;
  view.lastLogSeq = fresh.at(-1)!.seq;
  view.logs = [...view.logs, ...fresh].slice(-view.logLimit);
  return fresh;
}

/** Applies one message to the view; returns the log lines it added (not seen before). */
export function applyItem(view: WatchView, item: TaskWatchItem): LogLine[] {
  if (item.case === "task") {
    view.task = item.value;
    view.metrics = { ...item.value.metrics };
    return [];
  }
  const event = item.value;
  const t = view.task;
  switch (event.kind.case) {
    case "stateChange":
      if (t) {
        t.state = event.kind.value.state;
        t.attempt = event.kind.value.attempt;
        t.worker = event.kind.value.worker;
        if (event.kind.value.message && event.kind.value.state === TaskState.FAILED) t.errorMessage = event.kind.value.message;
      }
      return [];
    case "progress":
      if (t) t.progress = event.kind.value;
      return [];
    case "metrics":
      for (const p of event.kind.value.points) view.metrics[p.name] = p.value;
      return [];
    case "checkpoint":
      view.checkpoint = event.kind.value;
      return [];
    case "logs":
      return addLogLines(view, event.kind.value.lines);
    default:
      return [];
  }
}

const BAR_WIDTH = 30;

/** 0 to 1: the reported fraction, else epochs done of all. */
export function fractionOf(t: Task | undefined): number | undefined {
  const p = t?.progress;
  if (!p) return undefined;
  if (p.fraction > 0) return Math.min(1, p.fraction);
  if (p.totalEpochs > 0) return Math.min(1, p.epoch / p.totalEpochs);
  return undefined;
}

/** `[#########.....................]  30%`. */
export function progressBar(fraction: number | undefined, width = BAR_WIDTH): string {
  if (fraction === undefined) return `[${".".repeat(width)}]    -`;
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${`${Math.floor(fraction * 100)}%`.padStart(4)}`;
}

function checkpointText(c: Checkpoint): string {
  return `epoch ${c.epoch} (${c.fileCount} file${c.fileCount === 1 ? "" : "s"}, ${formatBytes(Number(c.totalSizeBytes))})`;
}

function headLine(t: Task): string {
  const parts = [`task ${lastSegment(t.name)}`, taskTypeWord(t.type), taskStateName(t.state), `attempt ${t.attempt}/${t.maxAttempts}`];
  if (t.worker) parts.push(`worker ${lastSegment(t.worker)}`);
  return parts.join("  ");
}

/** The view's lines, each cut to `width` columns (a wrapped line would break the redraw). */
export function renderView(view: WatchView, width: number): string[] {
  const t = view.task;
  if (!t) return ["waiting for the task..."];
  const lines = [headLine(t), `${progressBar(fractionOf(t))}  ${progressText(t.progress, { percent: false })}`];
  if (Object.keys(view.metrics).length > 0) lines.push(`metrics: ${metricsText(view.metrics)}`);
  if (view.checkpoint) lines.push(`checkpoint: ${checkpointText(view.checkpoint)}`);
  if (t.errorMessage && t.state === TaskState.FAILED) lines.push(`error: ${t.errorMessage}`);
  if (view.logs.length > 0) lines.push("--- log ---", ...view.logs.map((l) => l.text));
  return lines.map((l) => cut(l.replace(/[\r\n\t]/g, " "), width));
}

function cut(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, Math.max(1, width - 1)).join("")}…`;
}

function pointsText(points: MetricPoint[]): string[] {
  const bySteps = new Map<bigint, MetricPoint[]>();
  for (const p of points) bySteps.set(p.step, [...(bySteps.get(p.step) ?? []), p]);
  return [...bySteps].map(([step, ps]) => `metrics: step ${step}: ${ps.map((p) => `${p.name}=${metricValue(p.value)}`).join(" ")}`);
}

/** The plain lines of one message (no terminal). */
export function plainLines(item: TaskWatchItem): string[] {
  if (item.case === "task") {
    const t = item.value;
    return [`${headLine(t)}  ${progressText(t.progress)}`];
  }
  return eventLines(item.value);
}

function eventLines(event: TaskEvent): string[] {
  switch (event.kind.case) {
    case "stateChange": {
      const c = event.kind.value;
      return [`state: ${taskStateName(c.previousState)} -> ${taskStateName(c.state)}${c.message ? `: ${c.message}` : ""}`];
    }
    case "progress":
      return [`progress: ${progressText(event.kind.value)}`];
    case "metrics":
      return pointsText(event.kind.value.points);
    case "checkpoint":
      return [`checkpoint: ${checkpointText(event.kind.value)}`];
    case "logs":
      return event.kind.value.lines.map((l) => `log: ${l.text}`);
    default:
      return [];
  }
}

export interface WatchOptions {
  /** Log lines the terminal view keeps (0: none). */
  logLines: number;
  /** JSON: start after this sequence number (default 0: every event held). */
  afterSeq?: bigint;
  excludeLogs: boolean;
}

/** Watches until the task rests in a final state; resolves with the task as it ended. */
export async function watchTask(ctx: CommandContext, name: string, options: WatchOptions): Promise<Task> {
  if (ctx.globals.output !== "table") return watchData(ctx, ctx.globals.output, name, options);
  const { client, io, signal } = ctx;
  const view = createWatchView(options.logLines);
  // The view starts from now: the task and its log tail, then what follows.
  const now = (await client.tasks.getTask({ name }, signal ? { signal } : {})).task!;
  applyItem(view, { case: "task", value: now });
  if (options.logLines > 0 && !options.excludeLogs) {
    const tail = await client.tasks.listTaskLogs({ name, tail: options.logLines }, signal ? { signal } : {});
    addLogLines(view, tail.lines);
  }
  const tty = io.stdout.isTTY === true;
  const draw = tty ? createRedraw(ctx, view) : undefined;
  if (!tty) {
    io.stdout.write(`${plainLines({ case: "task", value: now }).join("\n")}\n`);
    for (const l of view.logs) io.stdout.write(`log: ${l.text}\n`);
  }
  let seen = false;
  const items = client.followTask(name, { afterSeq: now.lastSeq, excludeLogs: options.excludeLogs || options.logLines === 0, ...(signal ? { signal } : {}) });
  try {
    for await (const item of items) {
      const fresh = applyItem(view, item);
      if (draw) draw.later();
      else if (item.case === "task") {
        // The stream's own snapshot: printed above already.
        if (seen) io.stdout.write(`${plainLines(item).join("\n")}\n`);
        seen = true;
      } else if (item.value.kind.case === "logs") {
        for (const l of fresh) io.stdout.write(`log: ${l.text}\n`);
      } else io.stdout.write(`${plainLines(item).join("\n")}\n`);
    }
  } finally {
    draw?.end();
  }
  return (await client.tasks.getTask({ name }, signal ? { signal } : {})).task!;
}

async function watchData(ctx: CommandContext, format: DataFormat, name: string, options: WatchOptions): Promise<Task> {
  const { client, io, signal } = ctx;
  let last: Task | undefined;
  for await (const item of client.followTask(name, { afterSeq: options.afterSeq ?? 0n, excludeLogs: options.excludeLogs, ...(signal ? { signal } : {}) })) {
    if (item.case === "task") last = item.value;
    io.stdout.write(streamItemText(format, toJson(WatchTaskResponseSchema, create(WatchTaskResponseSchema, { kind: item }))));
  }
  return (await client.tasks.getTask({ name }, signal ? { signal } : {})).task ?? last!;
}

/** Redraws the view in place at most 10 times a second, and once more at the end. */
function createRedraw(ctx: CommandContext, view: WatchView) {
  const out = ctx.io.stdout;
  let drawn = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const draw = () => {
    timer = undefined;
    const lines = renderView(view, Math.max(20, (out.columns ?? 80) - 1));
    // Up to the first line drawn last time, clear from there down, draw again.
    out.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : ""}${lines.join("\n")}\n`);
    drawn = lines.length;
  };
  draw();
  return {
    later() {
      timer ??= setTimeout(draw, 100);
    },
    end() {
      if (timer) clearTimeout(timer);
      draw();
    },
  };
}
