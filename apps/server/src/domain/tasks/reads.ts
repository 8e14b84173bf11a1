// Reading what a task recorded: its events in order (state changes,
// progress, metric points, log lines, checkpoints), its log (after a
// sequence number, paged, or the tail), its metric series downsampled to a
// number of points, and its checkpoints with their files. Reads bound by
// the task's last sequence number, read first: events commit in sequence
// order (each change takes its numbers under the task's row lock), so
// everything up to it is visible to the reads that follow, and a read of
// three tables in three statements still returns no gap.
import type { Database, TaskRow, Tx } from "@modelreg/db";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import type { Scope } from "../shared/scope.js";
import { checkPageSize, Violations } from "../shared/validation.js";
import { largestTriangleThreeBuckets } from "./downsample.js";
import { checkpointEpochs, mergeEvents, wholeThrough } from "./event-merge.js";
import * as r from "./reads-sql.js";
import { checkpointResourceName, parseTaskName, taskResourceName } from "./rules.js";
import { selectByName } from "./sql.js";
import type { CheckpointView, LogLineRecord, MetricPointRecord, TaskCheckpointRow, TaskEventRecord } from "./types.js";

/** Events of a task after a sequence number. */
export interface EventPage {
  events: TaskEventRecord[];
  /** Everything up to this sequence number has been read (events left out, or dropped, included): read on after it. */
  through: number;
  /** The task's latest sequence number when read: more is to be read while `through` is below it. */
  lastSeq: number;
}

export interface LogQuery {
  afterSeq: number;
  /** The last lines instead (1-10,000); 0 = not. */
  tail: number;
  pageSize: number;
  pageToken: string;
}

export interface LogPage {
  lines: LogLineRecord[];
  nextPageToken: string;
  /** Lines dropped so far by the task's log cap. */
  droppedLines: number;
}

export interface MetricSeriesRecord {
  name: string;
  points: MetricPointRecord[];
  totalPoints: number;
}

/** Rows read from each source at once (reports, for metric points). */
export const EVENT_PAGE = 500;
/** A series longer than this is reduced in the database before it is downsampled. */
const REDUCE_ABOVE = 40_000;

export async function findTask(db: Database, scope: Scope, name: string): Promise<TaskRow> {
  const hit = await selectByName(db, scope, parseTaskName("name", name));
  if (!hit) throw new NotFoundError("task", name);
  return hit;
}

/** The events of the task with after < seq <= upto, at most `limit` rows of each source; `through` says how far the read is whole. */
export async function readEvents(
  db: Database,
  task: { id: string; name: string },
  after: number,
  upto: number,
  limit: number,
  excludeLogs: boolean,
): Promise<{ events: TaskEventRecord[]; through: number }> {
  if (after >= upto) return { events: [], through: after };
  const [events, logs, metrics] = await Promise.all([
    r.selectEvents(db, task.id, after, upto, limit),
    excludeLogs ? [] : r.selectLogs(db, task.id, after, upto, limit),
    r.selectMetricReports(db, task.id, after, upto, limit),
  ]);
  const reports = [...new Set(metrics.map((m) => m.seq))];
  const through = wholeThrough(upto, [
    { seqs: events.map((e) => e.seq), limit },
    { seqs: logs.map((l) => l.seq), limit },
    { seqs: reports, limit },
  ]);
  const epochs = checkpointEpochs(events.filter((e) => e.seq <= through));
  const checkpoints = epochs.length === 0 ? new Map() : new Map((await checkpointViews(db, task, { includePending: true, epochs })).map((c) => [c.row.epoch, c]));
  return { events: mergeEvents({ events, logs, metrics }, through, checkpoints), through };
}

export async function listEvents(db: Database, scope: Scope, name: string, afterSeq: number, limit: number, excludeLogs: boolean): Promise<EventPage> {
  checkAfterSeq(afterSeq);
  const task = await findTask(db, scope, name);
  const page = await readEvents(db, { id: task.id, name }, afterSeq, task.lastSeq, Math.max(1, Math.min(limit || EVENT_PAGE, EVENT_PAGE)), excludeLogs);
  return { ...page, lastSeq: task.lastSeq };
}

export function checkAfterSeq(afterSeq: number): void {
  if (afterSeq < 0) throw InvalidArgumentError.field("after_seq", `${afterSeq} is not a sequence number: they count from 1, and 0 means from the start`);
}

const TAIL_MAX = 10_000;

function checkLogQuery(o: LogQuery): number {
  const v = new Violations();
  if (o.afterSeq < 0) v.add("after_seq", `${o.afterSeq} is not a sequence number: 0 means from the oldest line held`);
  if (o.tail < 0 || o.tail > TAIL_MAX) v.add("tail", `${o.tail} is out of range: 1-${TAIL_MAX} lines, or 0 for none`);
  if (o.tail > 0 && (o.afterSeq > 0 || o.pageToken !== "")) v.add("tail", "cannot be combined with after_seq or page_token: ask for the last lines, or for the lines after a sequence number");
  const limit = checkPageSize(v, o.pageSize, 1000, 10_000);
  if (!v.empty) throw new InvalidArgumentError(v.list);
  return limit;
}

export async function listLogs(db: Database, scope: Scope, name: string, o: LogQuery): Promise<LogPage> {
  const limit = checkLogQuery(o);
  const fp = queryFingerprint("task-logs", name);
  const key = decodePageToken(o.pageToken, fp, 1);
  if (o.tail > 0) {
    const tail = await r.selectLogTail(db, scope, parseTaskName("name", name), o.tail);
    if (!tail) throw new NotFoundError("task", name);
    return { lines: tail.lines, nextPageToken: "", droppedLines: tail.droppedLines };
  }
  const task = await findTask(db, scope, name);
  const rows = await r.selectLogs(db, task.id, key ? Number(key[0]) : o.afterSeq, undefined, limit + 1);
  const page = pageOf(rows, limit, fp, (l) => [String(l.seq)]);
  return { lines: page.rows, nextPageToken: page.nextPageToken, droppedLines: task.droppedLines };
}

const MAX_POINTS = 10_000;

export async function listMetrics(db: Database, scope: Scope, name: string, names: string[], maxPoints: number): Promise<MetricSeriesRecord[]> {
  if (maxPoints !== 0 && (maxPoints < 2 || maxPoints > MAX_POINTS))
    throw InvalidArgumentError.field("max_points", `${maxPoints} is out of range: 2-${MAX_POINTS} points, or 0 for 1000`);
  const max = maxPoints || 1000;
  const task = await findTask(db, scope, name);
  const series: MetricSeriesRecord[] = [];
  // One series at a time: at most REDUCE_ABOVE points in memory.
  for (const { name: metric, total } of await r.selectMetricCounts(db, task.id, [...new Set(names)])) {
    const rows = total > REDUCE_ABOVE ? await r.selectSeriesReduced(db, task.id, metric, Math.floor(REDUCE_ABOVE / 4)) : await r.selectSeries(db, task.id, metric);
    const points = largestTriangleThreeBuckets(rows, max, (p) => p.step, (p) => p.value);
    series.push({ name: metric, points: points.map((p) => ({ name: p.name, step: p.step, value: p.value, epoch: p.epoch, time: p.time })), totalPoints: total });
  }
  return series;
}

export async function listCheckpoints(db: Database, scope: Scope, name: string, includePending: boolean): Promise<CheckpointView[]> {
  const task = await findTask(db, scope, name);
  return checkpointViews(db, { id: task.id, name: taskResourceName(task.workspace, task.taskId) }, { includePending });
}

/** The task's checkpoints (or those of `epochs`) with their files. */
export async function checkpointViews(q: Tx | Database, task: { id: string; name: string }, o: { includePending: boolean; epochs?: number[] }): Promise<CheckpointView[]> {
  const rows: TaskCheckpointRow[] = await r.selectCheckpoints(q, task.id, o);
  const files = await r.selectCheckpointFiles(q, rows.map((c) => c.id));
  return rows.map((row) => ({ row, name: checkpointResourceName(task.name, row.epoch), files: files.get(row.id) ?? [] }));
}
