// The rules of a worker's report that need no database: its bounds, and
// what each metric point and log line must be.
import { InvalidArgumentError } from "../shared/errors.js";
import { printable, Violations } from "../shared/validation.js";
import type { MetricPointRecord, ProgressRecord } from "./types.js";

export const MAX_POINTS = 1000;
export const MAX_LINES = 1000;
export const MAX_REPORT_BYTES = 1 << 20;
export const MAX_LINE_BYTES = 16 * 1024;
const METRIC_NAME = /^[A-Za-z0-9_./-]{1,128}$/;
const STREAM = /^[a-z0-9_-]{0,16}$/;

interface Report {
  progress: ProgressRecord | undefined;
  metrics: Omit<MetricPointRecord, "time">[];
  logs: { text: string; stream: string }[];
  firstLineNumber: number;
}

/** A report's bounds and fields; every bad one named. */
export function checkReport(r: Report): void {
  const v = new Violations();
  if (r.metrics.length > MAX_POINTS) v.add("metrics", `has ${r.metrics.length} points; the limit is ${MAX_POINTS} per report: send the rest in the next one`);
  if (r.logs.length > MAX_LINES) v.add("logs", `has ${r.logs.length} lines; the limit is ${MAX_LINES} per report: send the rest in the next one`);
  const bytes = r.logs.reduce((s, l) => s + Buffer.byteLength(l.text) + 16, 0) + r.metrics.length * 48 + r.metrics.reduce((s, p) => s + p.name.length, 0);
  if (bytes > MAX_REPORT_BYTES) v.add("logs", `the report holds about ${bytes} bytes; the limit is ${MAX_REPORT_BYTES} (1 MiB): send fewer lines per report`);
  r.metrics.slice(0, MAX_POINTS).forEach((p, i) => {
    if (!METRIC_NAME.test(p.name)) v.add(`metrics[${i}].name`, `"${printable(p.name)}" is not a metric name: 1-128 letters, digits, '_', '-', '.' and '/'`);
    if (!Number.isFinite(p.value)) v.add(`metrics[${i}].value`, `${p.value} is not a finite number`);
    if (!Number.isSafeInteger(p.step) || p.step < 0) v.add(`metrics[${i}].step`, `${p.step} is not a step: a whole number from 0`);
    if (p.epoch < 0) v.add(`metrics[${i}].epoch`, "must not be negative");
  });
  r.logs.slice(0, MAX_LINES).forEach((l, i) => {
    if (!STREAM.test(l.stream)) v.add(`logs[${i}].stream`, `"${printable(l.stream)}" is not a stream name: stdout, stderr, or up to 16 lowercase letters, digits, '-' and '_'`);
  });
  if (r.logs.length > 0 && (!Number.isSafeInteger(r.firstLineNumber) || r.firstLineNumber < 0))
    v.add("first_line_number", `${r.firstLineNumber} is not a line number: the number of the first line within the attempt, from 0`);
  if (r.progress) checkProgress(v, r.progress);
  if (!v.empty) throw new InvalidArgumentError(v.list);
}

function checkProgress(v: Violations, p: ProgressRecord): void {
  if (!(p.fraction >= 0 && p.fraction <= 1)) v.add("progress.fraction", `${p.fraction} is out of range: 0 to 1`);
  for (const [k, n] of [["epoch", p.epoch], ["total_epochs", p.totalEpochs], ["step", p.step], ["total_steps", p.totalSteps], ["eta_seconds", p.etaSeconds]] as const)
    if (n < 0) v.add(`progress.${k}`, "must not be negative");
  if ([...p.message].length > 1000) v.add("progress.message", `is ${[...p.message].length} characters long; the limit is 1000`);
}

/** A line of at most 16 KiB of UTF-8; longer ones are cut and marked with `…`. */
export function cutLine(text: string): string {
  if (Buffer.byteLength(text) <= MAX_LINE_BYTES) return text;
  const cut = Buffer.from(text).subarray(0, MAX_LINE_BYTES - 3).toString("utf8").replace(/\uFFFD$/, "");
  return `${cut}…`;
}
