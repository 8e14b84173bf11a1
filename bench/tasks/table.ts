// The figures of each phase, and the one table they are printed in: each
// figure, its target and whether it is met, the baseline's figure and the
// ratio modelreg ÷ baseline (above 1: modelreg is slower or larger).
import { fmt, percentile, table } from "../lib/stats.js";
import type { ClaimResult } from "./claim.js";
import type { Figure } from "./common.js";
import type { CpuUse } from "./cpu.js";
import type { LeaseResult } from "./lease.js";
import type { LogResult } from "./logs.js";
import type { PacedResult } from "./report.js";
import type { WatchResult } from "./watch.js";

export interface Phase {
  id: string;
  title: string;
  figures: Figure[];
  /** Wall time and CPU (s) of the baseline's part and of modelreg's. */
  baseline: CpuUse;
  modelreg: CpuUse;
  load: string;
}

const pct = (xs: number[], p: number) => percentile(Float64Array.from(xs).sort(), p);
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 160);

/** The errors of a phase, which must be none, with the first one's message. */
function errorsFigure(phase: string, figure: string, mr: { errors: number; firstError: unknown }, base: { errors: number; firstError: unknown }): Figure {
  const note = mr.errors || base.errors ? errText(mr.firstError ?? base.firstError) : undefined;
  return { phase, figure, unit: "", value: mr.errors, target: { op: "=", limit: 0 }, baseline: base.errors, note };
}

export function claimFigures(mr: ClaimResult, base: ClaimResult): Figure[] {
  const note = `${mr.latencies.length} tasks; ${mr.early} claims returned before their CreateTask (counted 0); CreateTask p50 ${fmt(pct(mr.createMs, 50), 1)} ms (baseline INSERT ${fmt(pct(base.createMs, 50), 1)} ms)`;
  const figures: Figure[] = [
    { phase: "1", figure: "claim latency p50 (create returned → claimed)", unit: "ms", value: pct(mr.latencies, 50), target: { op: "≤", limit: 50 }, baseline: pct(base.latencies, 50), note },
    { phase: "1", figure: "claim latency p99", unit: "ms", value: pct(mr.latencies, 99), target: { op: "≤", limit: 250 }, baseline: pct(base.latencies, 99) },
    { phase: "1", figure: "claim latency max", unit: "ms", value: Math.max(...mr.latencies), baseline: Math.max(...base.latencies) },
  ];
  if (mr.errors || base.errors)
    figures.push({ phase: "1", figure: "errors", unit: "", value: mr.errors, baseline: base.errors, note: errText(mr.firstError ?? base.firstError) });
  return figures;
}

export function reportFigures(mr: PacedResult, base: PacedResult, due: number): Figure[] {
  const rate = (r: PacedResult) => `${fmt(r.reports)} of ~${fmt(due)} due`;
  return [
    { phase: "2", figure: "ReportProgress p50", unit: "ms", value: pct(mr.latencies, 50), baseline: pct(base.latencies, 50), note: `reports counted: ${rate(mr)} (baseline ${rate(base)})` },
    { phase: "2", figure: "ReportProgress p99", unit: "ms", value: pct(mr.latencies, 99), target: { op: "≤", limit: 100 }, baseline: pct(base.latencies, 99) },
    { phase: "2", figure: "ReportProgress max", unit: "ms", value: Math.max(...mr.latencies), baseline: Math.max(...base.latencies) },
    errorsFigure("2", "ReportProgress errors", mr, base),
  ];
}

export function watchFigures(mr: WatchResult, base: WatchResult): Figure[] {
  const note = (r: WatchResult) => `${fmt(r.delays.length)} deliveries of ${fmt(r.reports.reports)} reports, ${fmt(r.early)} before the report's call returned (counted 0)`;
  return [
    { phase: "3", figure: "delivery delay p50 (report returned → watcher has it)", unit: "ms", value: pct(mr.delays, 50), baseline: pct(base.delays, 50), note: note(mr) },
    { phase: "3", figure: "delivery delay p99", unit: "ms", value: pct(mr.delays, 99), target: { op: "≤", limit: 200 }, baseline: pct(base.delays, 99), note: `baseline: ${note(base)}` },
    { phase: "3", figure: "delivery delay max", unit: "ms", value: Math.max(...mr.delays), baseline: Math.max(...base.delays) },
    { phase: "3", figure: "ReportProgress p99 while watched", unit: "ms", value: pct(mr.reports.latencies, 99), baseline: pct(base.reports.latencies, 99) },
    {
      phase: "3",
      figure: "deliveries missing / stream and report errors",
      unit: "",
      value: mr.missing + mr.errors + mr.reports.errors,
      target: { op: "=", limit: 0 },
      baseline: base.missing + base.errors + base.reports.errors,
      note: `of ${fmt(mr.expected)} expected${mr.errors + mr.reports.errors ? `; ${errText(mr.firstError ?? mr.reports.firstError)}` : ""}`,
    },
  ];
}

export function leaseFigures(mr: LeaseResult, base: LeaseResult, leaseSeconds: number): Figure[] {
  const s = (xs: number[]) => xs.map((x) => fmt(x / 1000, 2)).join(", ");
  return [
    {
      phase: "4",
      figure: "last report → QUEUED again, slowest",
      unit: "s",
      value: Math.max(...mr.requeueMs) / 1000,
      target: { op: "≤", limit: leaseSeconds + 5 },
      baseline: Math.max(...base.requeueMs) / 1000,
      note: `each: ${s(mr.requeueMs)} s (baseline ${s(base.requeueMs)} s)${mr.errors ? `; ${errText(mr.firstError)}` : ""}`,
    },
  ];
}

export function logFigures(mr: LogResult, base: LogResult, askedMib: number): Figure[] {
  const mibs = (r: LogResult) => r.bytes / 2 ** 20 / r.seconds;
  const short = mr.bytes < askedMib * 2 ** 20 ? ` (the time bound ended the write before ${fmt(askedMib)} MiB)` : "";
  return [
    {
      phase: "5",
      figure: "log write throughput",
      unit: "MiB/s",
      value: mibs(mr),
      baseline: mibs(base),
      note: `${fmt(mr.bytes / 2 ** 20)} MiB in ${fmt(mr.seconds, 1)} s${short} (baseline ${fmt(base.bytes / 2 ** 20)} MiB in ${fmt(base.seconds, 1)} s); ratio < 1 = slower`,
    },
    { phase: "5", figure: "ReportProgress (1,000 lines) p50", unit: "ms", value: pct(mr.reportMs, 50), baseline: pct(base.reportMs, 50) },
    { phase: "5", figure: "ReportProgress (1,000 lines) p99", unit: "ms", value: pct(mr.reportMs, 99), baseline: pct(base.reportMs, 99) },
    { phase: "5", figure: "ListTaskLogs tail=100 p50 during the write", unit: "ms", value: pct(mr.tailMs, 50), baseline: pct(base.tailMs, 50), note: `${mr.tailMs.length} reads (baseline ${base.tailMs.length})` },
    { phase: "5", figure: "ListTaskLogs tail=100 max during the write", unit: "ms", value: Math.max(...mr.tailMs), target: { op: "≤", limit: 100 }, baseline: Math.max(...base.tailMs) },
    errorsFigure("5", "errors", mr, base),
  ];
}

function met(f: Figure): string {
  if (!f.target || !Number.isFinite(f.value)) return f.target ? "MISS" : "";
  const ok = f.target.op === "≤" ? f.value <= f.target.limit : f.target.op === "<" ? f.value < f.target.limit : f.value === f.target.limit;
  return ok ? "met" : "MISS";
}

const cpuText = (u: CpuUse) => `${fmt(u.wall, 1)} s: ${fmt(u.server, 1)} / ${fmt(u.postgres, 1)} / ${fmt(u.generator, 1)}`;

const digits = (unit: string) => (unit === "" ? 0 : unit === "MB" ? 0 : unit === "s" ? 2 : 1);

export function printTable(phases: Phase[], o: { header: string; loadBefore: string; loadAfter: string }): void {
  const ordered = [...phases].sort((a, b) => a.id.localeCompare(b.id));
  const rows = ordered.flatMap((p) =>
    p.figures.map((f) => [
      f.phase,
      f.figure,
      `${fmt(f.value, digits(f.unit))}${f.unit ? ` ${f.unit}` : ""}`,
      f.target ? `${f.target.op} ${fmt(f.target.limit)}${f.unit ? ` ${f.unit}` : ""}` : "",
      met(f),
      f.baseline === undefined ? "—" : `${fmt(f.baseline, digits(f.unit))}${f.unit ? ` ${f.unit}` : ""}`,
      f.baseline && Number.isFinite(f.value) && f.baseline > 0 ? `${fmt(f.value / f.baseline, 2)}×` : "—",
      f.note ?? "",
    ]),
  );
  const out = [
    "",
    o.header,
    `load average before: ${o.loadBefore}; after: ${o.loadAfter}`,
    ...ordered.map((p) => `phase ${p.id}: ${p.title}; load at its end ${p.load}`),
    "",
    "CPU seconds of each part (wall s: server / PostgreSQL backends / this process, the load generator and the baseline's client):",
    ...ordered.map((p) => `  phase ${p.id}: baseline ${cpuText(p.baseline)}; modelreg ${cpuText(p.modelreg)}`),
    "",
    table(["phase", "figure", ">modelreg", "target", "result", ">baseline", ">ratio", "note"], rows),
    "",
    "ratio = modelreg ÷ baseline. Baselines: raw postgres.js statements on the same tables and database in the same run (the baseline's watchers and",
    "workers run in this process and skip HTTP/2 and protobuf). Targets are reported, not enforced: the exit code is 0 unless the bench crashed.",
    "",
  ];
  process.stdout.write(out.join("\n"));
}
