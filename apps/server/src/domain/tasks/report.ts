// A worker's report: progress, metric points and log lines of its attempt,
// recorded under the lease in one statement (./report-sql.ts), each taking
// the task's next sequence numbers; the lease is extended. A retried report
// records nothing twice: metric points are unique by name and step, and log
// lines by their number within the attempt (tasks.lines_recorded). Logs
// are capped per task: past the cap the oldest lines are deleted, so
// neither a row nor the server's memory grows with a task that logs
// without end.
import type { Database } from "@modelreg/db";
import { TaskState } from "@modelreg/proto";
import type { Scope } from "../shared/scope.js";
import type { GpuRecord } from "../workers/index.js";
import { checkHeld, taskOfToken } from "./lease.js";
import { checkReport, cutLine } from "./report-rules.js";
import { runReport, trimLogs } from "./report-sql.js";
import type { MetricPointRecord, ProgressRecord } from "./types.js";

export interface ReportInput {
  leaseToken: string;
  progress: ProgressRecord | undefined;
  metrics: (Omit<MetricPointRecord, "time"> & { time: Date | undefined })[];
  logs: { text: string; stream: string; time: Date | undefined }[];
  firstLineNumber: number;
  gpus: GpuRecord[] | undefined;
}

export interface ReportResult {
  stopRequested: boolean;
  cancelRequested: boolean;
  leaseExpireTime: Date;
  linesRecorded: number;
  pointsRecorded: number;
}

export interface ReportSettings {
  leaseMs: number;
  /** Log bytes kept per task; past it the oldest lines go. */
  logCapBytes: number;
}

export async function reportProgress(db: Database, settings: ReportSettings, scope: Scope, r: ReportInput): Promise<ReportResult> {
  checkReport(r);
  const taskRowId = taskOfToken(r.leaseToken);
  const now = new Date().toISOString();
  const row = await runReport(db, {
    taskRowId,
    leaseToken: r.leaseToken,
    workspace: scope.workspace,
    progress: r.progress ? { ...r.progress, reportTime: now } : null,
    points: r.metrics.map((p) => ({ name: p.name, step: p.step, value: p.value, epoch: p.epoch, time: p.time?.toISOString() ?? now })),
    lines: r.logs.map((l, n) => ({ n, text: cutLine(l.text), stream: l.stream, time: l.time?.toISOString() ?? now })),
    firstLineNumber: r.firstLineNumber,
    gpus: r.gpus ?? null,
    leaseSeconds: settings.leaseMs / 1000,
  });
  // Refused (nothing was written): say why, as every lease-holding call does.
  const held = checkHeld(scope, r.leaseToken, row);
  if (held.leaseUntil === null) throw new Error(`report on task ${taskRowId}: the lease held but nothing was settled`);
  if (held.logBytes > settings.logCapBytes) await trimLogs(db, taskRowId, held.logBytes - Math.floor(settings.logCapBytes * 0.9));
  return {
    stopRequested: held.stopRequested || held.state === TaskState.STOPPING,
    cancelRequested: held.cancelRequested,
    leaseExpireTime: held.leaseUntil,
    linesRecorded: held.linesRecorded,
    pointsRecorded: held.pointsRecorded,
  };
}
