// A task's events as one sequence: rows of task_events (state changes,
// progress, checkpoints), log lines (each its own sequence number) and
// metric points (the points of one report share one) merged by sequence
// number. Consecutive log lines become one event, whose sequence number is
// its last line's, so that resuming after it repeats none of its lines.
import type { EventRow, LogRow, MetricRow } from "./reads-sql.js";
import { type CheckpointView, EVENT_KIND, type ProgressRecord, type StateChangeRecord, type TaskEventRecord } from "./types.js";

/** At most this many lines, and about this many bytes of text, in one logs event. */
export const LOG_EVENT_LINES = 500;
export const LOG_EVENT_BYTES = 1024 * 1024;

/**
 * Up to which sequence number a read of several sources (each cut at
 * `limit` rows, or reports) is whole: a source cut short may hold more
 * just after its last row, so the read is whole only up to the smallest
 * such last row, and up to `upto` when none was cut.
 */
export function wholeThrough(upto: number, sources: { seqs: number[]; limit: number }[]): number {
  let through = upto;
  for (const s of sources) if (s.seqs.length >= s.limit && s.seqs.length > 0) through = Math.min(through, s.seqs.at(-1)!);
  return through;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : Number(v ?? 0) || 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

export function stateChangeOf(p: Record<string, unknown>): StateChangeRecord {
  return { state: num(p.state), previousState: num(p.previousState), message: str(p.message), attempt: num(p.attempt), worker: str(p.worker) };
}

/** A progress record as task_events and tasks.progress hold it (missing fields are zero). */
export function progressOf(p: Record<string, unknown>): ProgressRecord {
  return {
    epoch: num(p.epoch),
    totalEpochs: num(p.totalEpochs),
    step: num(p.step),
    totalSteps: num(p.totalSteps),
    fraction: num(p.fraction),
    message: str(p.message),
    etaSeconds: num(p.etaSeconds),
    reportTime: typeof p.reportTime === "string" ? p.reportTime : undefined,
  };
}

type Item = { seq: number; event?: EventRow; log?: LogRow; metric?: MetricRow };

/** The events of the rows up to `through`, by sequence number; checkpoint events take their checkpoint (by epoch) from `checkpoints`. */
export function mergeEvents(rows: { events: EventRow[]; logs: LogRow[]; metrics: MetricRow[] }, through: number, checkpoints: Map<number, CheckpointView>): TaskEventRecord[] {
  const items: Item[] = [
    ...rows.events.map((event) => ({ seq: event.seq, event })),
    ...rows.logs.map((log) => ({ seq: log.seq, log })),
    ...rows.metrics.map((metric) => ({ seq: metric.seq, metric })),
  ]
    .filter((i) => i.seq <= through)
    // Stable: the points of one report keep their order.
    .sort((a, b) => a.seq - b.seq);
  const out: TaskEventRecord[] = [];
  for (let i = 0; i < items.length; ) {
    const item = items[i]!;
    if (item.log) {
      const lines = [];
      let bytes = 0;
      for (; i < items.length && items[i]!.log && lines.length < LOG_EVENT_LINES && bytes < LOG_EVENT_BYTES; i++) {
        const l = items[i]!.log!;
        lines.push({ seq: l.seq, text: l.text, stream: l.stream, attempt: l.attempt, time: l.time });
        bytes += l.text.length;
      }
      out.push({ seq: lines.at(-1)!.seq, time: lines[0]!.time, kind: "logs", lines });
    } else if (item.metric) {
      const points = [];
      for (; i < items.length && items[i]!.metric && items[i]!.seq === item.seq; i++) {
        const m = items[i]!.metric!;
        points.push({ name: m.name, step: m.step, value: m.value, epoch: m.epoch, time: m.time });
      }
      out.push({ seq: item.seq, time: points[0]!.time, kind: "metrics", points });
    } else {
      i++;
      const e = eventOf(item.event!, checkpoints);
      if (e) out.push(e);
    }
  }
  return out;
}

function eventOf(row: EventRow, checkpoints: Map<number, CheckpointView>): TaskEventRecord | undefined {
  const base = { seq: row.seq, time: row.time };
  if (row.kind === EVENT_KIND.state) return { ...base, kind: "state", change: stateChangeOf(row.payload) };
  if (row.kind === EVENT_KIND.progress) return { ...base, kind: "progress", progress: progressOf(row.payload) };
  if (row.kind === EVENT_KIND.checkpoint) {
    // A checkpoint deleted since (with its task's epoch saved again) has nothing left to show.
    const checkpoint = checkpoints.get(num(row.payload.epoch));
    return checkpoint ? { ...base, kind: "checkpoint", checkpoint } : undefined;
  }
  return undefined;
}

/** The epochs the checkpoint events among `events` name. */
export function checkpointEpochs(events: EventRow[]): number[] {
  return [...new Set(events.filter((e) => e.kind === EVENT_KIND.checkpoint).map((e) => num(e.payload.epoch)))];
}
