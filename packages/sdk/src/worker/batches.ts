// What a worker gathers between reports, and how it is cut into
// ReportProgress calls within the server's bounds (1,000 metric points,
// 1,000 log lines and 1 MiB per call). The checks here are the server's
// (report-rules on the server side), made where the handler calls, so a bad
// metric name fails the line of code that wrote it instead of a report.

/** Per call, as the server takes them. */
export const MAX_POINTS = 1000;
export const MAX_LINES = 1000;
const MAX_REPORT_BYTES = 1 << 20;
/** Room left for the rest of the message (progress, GPUs, framing). */
const REPORT_SLACK = 64 << 10;
export const MAX_LINE_BYTES = 16 * 1024;
const METRIC_NAME = /^[A-Za-z0-9_./-]{1,128}$/;
const STREAM = /^[a-z0-9_-]{0,16}$/;

export interface PendingLine {
  text: string;
  stream: string;
  time: Date;
}

export interface PendingPoint {
  name: string;
  step: number;
  value: number;
  epoch: number;
  time: Date;
}

export interface Batch {
  logs: PendingLine[];
  metrics: PendingPoint[];
}

/** A line of at most 16 KiB of UTF-8, cut and marked with `…` as the server would. */
export function cutLine(text: string): string {
  if (Buffer.byteLength(text) <= MAX_LINE_BYTES) return text;
  const cut = Buffer.from(text).subarray(0, MAX_LINE_BYTES - 3).toString("utf8").replace(/\uFFFD$/, "");
  return `${cut}…`;
}

/** `text` as log lines: split at newlines (a trailing one dropped), each cut to the limit. */
export function linesOf(text: string, stream: string, time: Date): PendingLine[] {
  if (!STREAM.test(stream)) throw new RangeError(`"${stream}" is not a stream name: stdout, stderr, or up to 16 lowercase letters, digits, '-' and '_'`);
  const parts = text.replace(/\r?\n$/, "").split(/\r?\n/);
  return parts.map((p) => ({ text: cutLine(p), stream, time }));
}

/** A metric point, checked as the server checks it. */
export function pointOf(name: string, value: number, step: number, epoch: number | undefined, time: Date): PendingPoint {
  if (!METRIC_NAME.test(name)) throw new RangeError(`"${name}" is not a metric name: 1-128 letters, digits, '_', '-', '.' and '/'`);
  if (!Number.isFinite(value)) throw new RangeError(`metric ${name}: ${value} is not a finite number`);
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`metric ${name}: step ${step} is not a whole number from 0`);
  if (epoch !== undefined && (!Number.isSafeInteger(epoch) || epoch < 0)) throw new RangeError(`metric ${name}: epoch ${epoch} is not a whole number from 0`);
  return { name, step, value, epoch: epoch ?? 0, time };
}

/** Bytes the server counts for a point and for a line. */
const pointBytes = (p: PendingPoint) => 48 + p.name.length;
const lineBytes = (l: PendingLine) => Buffer.byteLength(l.text) + 16;

/**
 * Takes the next call's worth from the front of `pending` (which it
 * shortens): up to 1,000 points, then up to 1,000 lines within what is left
 * of 1 MiB. Order is kept, so line numbers follow from what was taken.
 */
export function takeBatch(pending: Batch): Batch {
  const metrics = pending.metrics.splice(0, MAX_POINTS);
  let budget = MAX_REPORT_BYTES - REPORT_SLACK - metrics.reduce((n, p) => n + pointBytes(p), 0);
  let count = 0;
  for (const line of pending.logs) {
    if (count >= MAX_LINES || lineBytes(line) > budget) break;
    budget -= lineBytes(line);
    count++;
  }
  return { metrics, logs: pending.logs.splice(0, count) };
}

/**
 * Drops the oldest entries past `max` (when the server has been out of
 * reach for long and the handler keeps writing); returns how many went.
 */
export function dropOldest<T>(list: T[], max: number): number {
  const excess = list.length - max;
  if (excess <= 0) return 0;
  list.splice(0, excess);
  return excess;
}
