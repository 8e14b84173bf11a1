// Where the slow calls of `bench search` lose their time. On the database a
// `bench search --database-url URL` run left, the real server (the bundle
// npm start runs) and the SDK (its own transport) make the b1, b50, c1 and c50 calls,
// one in flight; for each call it records:
//   - the client's wall time, split at the server's handler (its access log:
//     the handler's own ms and when it ended): before, in, and after it
//     (answer encoding, HTTP/2, the SDK's decoding);
//   - GC pauses overlapping the call, in the SDK's process and the server's;
//   - CPU used and time spent waiting for a CPU during the call, summed
//     over every thread of the SDK's process, the server and its
//     PostgreSQL backends (Linux schedstat).
// It prints the percentiles, the medians of each part, and the slowest calls
// part by part, so a tail can be told apart: GC pauses, another thread's or
// process's work (V8's concurrent marking and parallel scavenges run on
// helper threads and take a core from the call), or waiting for a CPU.
//
//   node --conditions=@modelreg/source --import tsx bench/search/tail.ts URL [calls]
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { gcPauses } from "../lib/gc-log.mjs";
import { schedMs } from "../lib/processes.js";
import { fmt, percentile, table } from "../lib/stats.js";
import { byMetric, type Call, type CaseKind, FAR_PAGE, filtered } from "./cases.js";
import { sdkClient, startModelreg } from "./modelreg.js";

const [url, callsArg] = process.argv.slice(2);
if (!url) throw new Error("usage: tail.ts DATABASE_URL [calls]");
const calls = Number(callsArg ?? 400);
const WARMUP = 30;
const SLOW_MS = 20;
const token = `bench-admin.${randomBytes(32).toString("base64url")}`;
const dir = mkdtempSync(join(tmpdir(), "bench-tail-"));
const gcLog = join(dir, "gc-server.json");

type Pause = (typeof gcPauses)[number];
const epoch = () => performance.timeOrigin + performance.now();

// The server's ListVersions calls, in order: handler ms and when it ended.
const handled: { ms: number; end: number }[] = [];
const server = await startModelreg({
  name: "modelreg-tail",
  dbUrl: url,
  adminKey: token,
  nodeArgs: ["--import", fileURLToPath(new URL("../lib/gc-log.mjs", import.meta.url))],
  // debug: successful reads are logged too (their access-log line).
  logLevel: "debug",
  env: { GC_LOG: gcLog },
  onLine: (l) => {
    if (!l.includes("/ListVersions")) return;
    const { ms, time } = JSON.parse(l) as { ms: number; time: string };
    handled.push({ ms, end: Date.parse(time) });
  },
});
const clientGc = gcPauses;
const client = sdkClient(server, token);
const api = client.api;
const meta = postgres(url, { max: 1, onnotice: () => {} });

interface Sample {
  start: number;
  end: number;
  /** CPU / wait-for-CPU ms during the call: SDK process, server, its PostgreSQL backends. */
  cpu: { sdk: number; server: number; pg: number };
  wait: { sdk: number; server: number; pg: number };
}
const first: Call = { modelreg: "", raw: undefined };
/** The call that fetches page FAR_PAGE of `kind`, from one walk of the pages before it. */
async function farPage(kind: CaseKind): Promise<Call> {
  let call = first;
  for (let page = 1; page < FAR_PAGE; page++) {
    const { nextModelreg } = await kind.modelreg(api, call);
    if (!nextModelreg) throw new Error(`the list ended at page ${page}, before page ${FAR_PAGE}`);
    call = { modelreg: nextModelreg, raw: undefined };
  }
  return call;
}
/** id, label, kind, far page (walked to first)? */
const cases: [string, string, CaseKind, boolean][] = [
  ["b1", "label filter across models, page 1", filtered, false],
  [`b${FAR_PAGE}`, `label filter across models, page ${FAR_PAGE}`, filtered, true],
  ["c1", "metric order across models, page 1", byMetric, false],
  [`c${FAR_PAGE}`, `metric order across models, page ${FAR_PAGE}`, byMetric, true],
];
/** Where each case's samples start in `handled` (after its walk and warm-ups). */
const measured: { id: string; label: string; samples: Sample[]; from: number }[] = [];
/** ListVersions calls made so far (the server logs each, in order). */
let logged = 0;
try {
  for (const [id, label, kind, far] of cases) {
    const call = far ? await farPage(kind) : first;
    logged += far ? FAR_PAGE - 1 : 0;
    for (let i = 0; i < WARMUP; i++) await kind.modelreg(api, call);
    const backends = (await meta<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'modelreg'`).map((r) => r.pid);
    const snap = () => {
      const [s, v] = [schedMs(process.pid), schedMs(server.pid)];
      const pg = backends.map(schedMs).reduce((a, b) => ({ cpu: a.cpu + b.cpu, wait: a.wait + b.wait }), { cpu: 0, wait: 0 });
      return { cpu: { sdk: s.cpu, server: v.cpu, pg: pg.cpu }, wait: { sdk: s.wait, server: v.wait, pg: pg.wait } };
    };
    const samples: Sample[] = [];
    for (let i = 0; i < calls; i++) {
      const a = snap();
      const start = epoch();
      await kind.modelreg(api, call);
      const end = epoch();
      const b = snap();
      const d = (k: "cpu" | "wait") => ({ sdk: b[k].sdk - a[k].sdk, server: b[k].server - a[k].server, pg: b[k].pg - a[k].pg });
      samples.push({ start, end, cpu: d("cpu"), wait: d("wait") });
    }
    measured.push({ id, label, samples, from: logged + WARMUP });
    logged += WARMUP + calls;
  }
} finally {
  client.close();
  await meta.end({ timeout: 1 });
  await server.stop(20_000);
}
const serverGc = JSON.parse(readFileSync(gcLog, "utf8")) as Pause[];
rmSync(dir, { recursive: true, force: true });
// Every ListVersions call was logged in order: a walk, warm-ups, then samples, case after case.
if (handled.length !== logged) throw new Error(`the server logged ${handled.length} ListVersions calls, expected ${logged}`);

const overlap = (gc: Pause[], a: number, b: number) => gc.reduce((t, [s, d]) => (s < b && s + d > a ? t + Math.min(b, s + d) - Math.max(a, s) : t), 0);
const median = (xs: number[]) => percentile(Float64Array.from(xs).sort(), 50);
const f1 = (x: number) => fmt(x, 1);
process.stdout.write(`bench search tail — ${new Date().toISOString()}, ${fmt(calls)} calls per case after ${WARMUP} warm-ups, one in flight; ms\n`);
for (const { id, label, samples, from } of measured) {
  const rows = samples.map((s, i) => {
    const h = handled[from + i]!;
    const wall = s.end - s.start;
    const before = h.end - h.ms - s.start;
    return { ...s, wall, before, handler: h.ms, after: wall - before - h.ms, gcSdk: overlap(clientGc, s.start, s.end), gcServer: overlap(serverGc, s.start, s.end) };
  });
  const walls = Float64Array.from(rows.map((r) => r.wall)).sort();
  const med = {
    before: median(rows.map((r) => r.before)),
    handler: median(rows.map((r) => r.handler)),
    after: median(rows.map((r) => r.after)),
    cpu: { sdk: median(rows.map((r) => r.cpu.sdk)), server: median(rows.map((r) => r.cpu.server)), pg: median(rows.map((r) => r.cpu.pg)) },
  };
  process.stdout.write(
    `\n${id}) ${label}: p50 ${f1(percentile(walls, 50))}, p90 ${f1(percentile(walls, 90))}, p99 ${f1(percentile(walls, 99))}, max ${f1(walls[walls.length - 1]!)}\n` +
      `  median parts: before the handler ${f1(med.before)}, handler ${f1(med.handler)}, after ${f1(med.after)}; CPU per call: SDK ${f1(med.cpu.sdk)}, server ${f1(med.cpu.server)}, PostgreSQL ${f1(med.cpu.pg)}\n`,
  );
  const slow = rows.filter((r) => r.wall >= SLOW_MS);
  const gcHit = slow.filter((r) => r.gcSdk + r.gcServer >= 1).length;
  const busy = slow.filter((r) => r.cpu.sdk > 2 * med.cpu.sdk + 2 || r.cpu.server > 2 * med.cpu.server + 2).length;
  const waited = slow.filter((r) => r.wait.sdk + r.wait.server + r.wait.pg >= 3).length;
  process.stdout.write(
    `  ${slow.length} calls took ${SLOW_MS} ms or more: ${gcHit} overlapped a GC pause, ${busy} ran with a process using more than twice its median CPU, ${waited} waited 3 ms or more for a CPU\n`,
  );
  const slowest = [...rows].sort((x, y) => y.wall - x.wall).slice(0, 8);
  const slowTable = table(
    [">wall", ">before", ">handler", ">after", ">GC sdk", ">GC srv", ">CPU sdk", ">CPU srv", ">CPU pg", ">wait sdk", ">wait srv", ">wait pg"],
    slowest.map((r) => [r.wall, r.before, r.handler, r.after, r.gcSdk, r.gcServer, r.cpu.sdk, r.cpu.server, r.cpu.pg, r.wait.sdk, r.wait.server, r.wait.pg].map(f1)),
  );
  process.stdout.write(`${slowTable.replace(/^/gm, "  ")}\n`);
  const within = (gc: Pause[]) => gc.filter(([s]) => s >= samples[0]!.start && s <= samples[samples.length - 1]!.end);
  const sum = (gc: Pause[], kind?: number) => gc.filter(([, , k]) => kind === undefined || k === kind);
  for (const [who, gc] of [["SDK", within(clientGc)], ["server", within(serverGc)]] as const) {
    const minor = sum(gc, 1);
    const major = sum(gc, 4);
    process.stdout.write(
      `  ${who} GC during the case: ${minor.length} scavenges (${f1(minor.reduce((t, p) => t + p[1], 0))} ms), ${major.length} mark-compacts (${f1(major.reduce((t, p) => t + p[1], 0))} ms), longest pause ${f1(Math.max(0, ...gc.map((p) => p[1])))}\n`,
    );
  }
}
