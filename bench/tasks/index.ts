// `npm run bench -- tasks [--database-url URL] [--only claim,report,watch,lease,logs] [--claims N] [--claim-waiters N]
//   [--workers N] [--report-seconds S] [--watchers N] [--watch-tasks N] [--watch-connections N] [--watch-seconds S]
//   [--lease-seconds S] [--log-mib N] [--log-seconds S] [--cpu-prof DIR] [--server-arg=--node-flag ...] [--server-log FILE]`
//
// Tasks on PostgreSQL: modelreg (apps/server/dist/main.mjs, the bundle npm
// start runs, in its own process) beside a raw postgres.js baseline
// (./raw.ts) doing the same claims, inserts and reads on the same tables,
// in the same run, the baseline first in each phase:
//   1 claim latency (./claim.ts); 2 200 workers reporting once a second
//   (./report.ts); 3 500 WatchTask streams (./watch.ts); 5 one task writing
//   1 GiB of logs (or for 60 s, whichever ends first) with tail reads (./logs.ts); 4 a killed worker's task
//   queued again, on a second server with TASK_LEASE_SECONDS=5 (./lease.ts;
//   run last, with no other server sweeping). The server's RSS is sampled
//   through every phase. One table: each figure, its target, the baseline
//   and the ratio modelreg ÷ baseline.
// PostgreSQL is required: DATABASE_URL (or --database-url), loopback only;
// a database modelreg_bench_<hex> is created there and dropped at the end.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import postgres, { type Sql } from "postgres";
import { createBenchDatabase } from "../lib/database.js";
import { fmt } from "../lib/stats.js";
import { SERVER_DEBUG_OPTIONS, serverDebug, type ServerProcess, startModelregServer } from "../lib/processes.js";
import { claimModelreg, claimRaw, warmClaims } from "./claim.js";
import { cpuBetween, cpuSnapshot } from "./cpu.js";
import { type Api, connect, type Figure, log, memoryWatch, type MemoryWatch } from "./common.js";
import { leaseModelreg, leaseRaw } from "./lease.js";
import { logsModelreg, logsRaw } from "./logs.js";
import { createRawSide, type RawSide } from "./raw.js";
import { reportModelreg, reportRaw } from "./report.js";
import { claimFigures, leaseFigures, logFigures, type Phase, printTable, reportFigures, watchFigures } from "./table.js";
import { watchModelreg, watchRaw } from "./watch.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BENCH_TOKEN = `bench-admin.${randomBytes(32).toString("base64url")}`;
const POOL = 10;
const LOG_CAP_BYTES = 64 << 20;
const PHASES = ["claim", "report", "watch", "logs", "lease"] as const;

const OPTIONS = {
  "database-url": { type: "string" },
  only: { type: "string", default: PHASES.join(",") },
  claims: { type: "string", default: "200" },
  "claim-waiters": { type: "string", default: "4" },
  "claim-gap-ms": { type: "string", default: "25" },
  workers: { type: "string", default: "200" },
  "report-seconds": { type: "string", default: "30" },
  watchers: { type: "string", default: "500" },
  "watch-tasks": { type: "string", default: "50" },
  "watch-connections": { type: "string", default: "50" },
  "watch-seconds": { type: "string", default: "20" },
  "lease-seconds": { type: "string", default: "5" },
  "log-mib": { type: "string", default: "1024" },
  "log-seconds": { type: "string", default: "60" },
  ...SERVER_DEBUG_OPTIONS,
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

function num(values: Values, name: keyof typeof OPTIONS, min: number, max: number): number {
  const n = Number(values[name]);
  if (!(Number.isFinite(n) && n >= min && n <= max)) throw new Error(`--${name} ${String(values[name])}: expected a number from ${min} to ${max}`);
  return n;
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim();
const apis = (url: string, n: number): Api[] => Array.from({ length: n }, () => connect(url, BENCH_TOKEN));
const closeAll = (list: Api[]) => {
  for (const a of list) a.close();
};

interface Ctx {
  values: Values;
  raw: RawSide;
  params: Record<string, unknown>;
  server: ServerProcess;
  mem: MemoryWatch;
  sql: Sql;
  phases: Phase[];
}

/**
 * Runs one phase: its body runs the baseline, calls `split()`, then runs
 * modelreg; the CPU of each part and the server's peak RSS over both are
 * recorded with its figures.
 */
/** A phase's figures, and how many calls each side made (for CPU per call). */
interface PhaseResult {
  figures: Figure[];
  calls?: { what: string; modelreg: number; baseline: number };
}

async function phase(c: Ctx, id: string, title: string, body: (split: () => Promise<void>) => Promise<PhaseResult>): Promise<void> {
  log(`phase ${id}: ${title}…  (load ${loadavg()})`);
  c.mem.phase();
  const start = await cpuSnapshot(c.sql, c.server.pid);
  let mid = start;
  const { figures, calls } = await body(async () => {
    mid = await cpuSnapshot(c.sql, c.server.pid);
  });
  const end = await cpuSnapshot(c.sql, c.server.pid);
  const [base, mr] = [cpuBetween(start, mid), cpuBetween(mid, end)];
  if (calls)
    figures.push({
      phase: id,
      figure: `CPU per ${calls.what}: server + PostgreSQL (baseline: this process + PostgreSQL)`,
      unit: "ms",
      value: ((mr.server + mr.postgres) * 1000) / calls.modelreg,
      baseline: ((base.generator + base.postgres) * 1000) / calls.baseline,
      note: `${fmt(calls.modelreg)} calls (baseline ${fmt(calls.baseline)})`,
    });
  figures.push({ phase: id, figure: "server RSS, peak in phase", unit: "MB", value: c.mem.max(), target: { op: "<", limit: 250 } });
  c.phases.push({ id, title, figures, baseline: base, modelreg: mr, load: loadavg() });
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: OPTIONS });
  const adminUrl = values["database-url"] ?? process.env.DATABASE_URL;
  if (!adminUrl) {
    log(
      "bench tasks measures on PostgreSQL and needs one: set DATABASE_URL (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench -- tasks) or pass --database-url URL. A database modelreg_bench_<hex> is created there and dropped at the end. Nothing was run.",
    );
    return;
  }
  const only = new Set(values.only.split(",").map((s) => s.trim()));
  for (const p of only) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only ${p}: phases are ${PHASES.join(", ")}`);
  const leaseSeconds = num(values, "lease-seconds", 1, 60);
  const startLoad = loadavg();
  const db = await createBenchDatabase(adminUrl, log);
  const dataDir = await mkdtemp(join(tmpdir(), "modelreg-bench-tasks-"));
  const sql = postgres(db.url, { max: POOL, onnotice: () => {} });
  const servers: ServerProcess[] = [];
  const debug = serverDebug(values);
  const start = (name: string, env: Record<string, string>) =>
    startModelregServer({
      name,
      nodeArgs: debug.nodeArgs,
      cwd: REPO_ROOT,
      onLine: debug.onLine(name),
      env: {
        DATABASE_URL: db.url,
        DATABASE_POOL_SIZE: String(POOL),
        DATA_DIR: join(dataDir, name),
        BLOB_STORE: "",
        LOG_LEVEL: "warn",
        MODELREG_ADMIN_KEY: BENCH_TOKEN,
        RATE_LIMIT_PER_KEY: "1000000",
        RATE_LIMIT_BURST: "1000000",
        // Every simulated worker and watcher comes from 127.0.0.1.
        MAX_CONNECTIONS_PER_PEER: "4096",
        GC_INTERVAL_SECONDS: "0",
        TASK_LOG_MAX_BYTES: String(LOG_CAP_BYTES),
        ...env,
      },
    }).then((s) => {
      servers.push(s);
      return s;
    });
  const stopServer = async (s: ServerProcess) => {
    servers.splice(servers.indexOf(s), 1);
    await s.stop(values["cpu-prof"] ? 60_000 : 5000);
    if (values["cpu-prof"]) log(`${s.name} CPU profile written to ${values["cpu-prof"]}`);
  };
  try {
    log(`bench tasks: database ${new URL(db.url).pathname.slice(1)}; starting modelreg…`);
    const server = await start("modelreg", {});
    const probe = connect(server.url, BENCH_TOKEN);
    // The baseline's rows carry the params a real task gets (the template's defaults).
    const params = (await probe.tasks.createTask({ parent: "workspaces/default", task: { type: 1, queue: "probe" } })).task!.params ?? {};
    const raw = await createRawSide(sql);
    const c: Ctx = { values, raw, params, server, mem: memoryWatch(server.pid), sql, phases: [] };
    await warmClaims(probe, raw, params);
    probe.close();
    if (only.has("claim")) await claimPhase(c);
    if (only.has("report")) await reportPhase(c);
    if (only.has("watch")) await watchPhase(c);
    if (only.has("logs")) await logsPhase(c);
    c.mem.stop();
    await stopServer(server);
    if (only.has("lease")) await leasePhase(c, leaseSeconds, () => start("modelreg-lease", { TASK_LEASE_SECONDS: String(leaseSeconds) }), stopServer);
    printTable(c.phases, {
      header: `bench tasks — ${new Date().toISOString()}, node ${process.version}, ${availableParallelism()} CPUs shared by this load generator, the server and PostgreSQL; server and baseline pools ${POOL} connections`,
      loadBefore: startLoad,
      loadAfter: loadavg(),
    });
  } finally {
    for (const s of servers) await stopServer(s).catch(() => {});
    await sql.end({ timeout: 5 }).catch(() => {});
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function claimPhase(c: Ctx): Promise<void> {
  const o = { tasks: num(c.values, "claims", 1, 100_000), waiters: num(c.values, "claim-waiters", 1, 100), gapMs: num(c.values, "claim-gap-ms", 0, 10_000) };
  await phase(c, "1", `claim latency over ${o.tasks} tasks, ${o.waiters} workers waiting (ClaimTask wait_seconds 30)`, async (split) => {
    const base = await claimRaw(c.raw, o, c.params);
    const creator = connect(c.server.url, BENCH_TOKEN);
    const waiters = apis(c.server.url, o.waiters);
    await split();
    const mr = await claimModelreg(creator, waiters, o).finally(() => closeAll([creator, ...waiters]));
    return { figures: claimFigures(mr, base), calls: { what: "task (create, claim, finish)", modelreg: mr.latencies.length, baseline: base.latencies.length } };
  });
}

async function reportPhase(c: Ctx): Promise<void> {
  const n = num(c.values, "workers", 1, 5000);
  const seconds = num(c.values, "report-seconds", 3, 600);
  const shape = { points: 10, lines: 50, lineBytes: 100 };
  await phase(c, "2", `${n} workers each reporting once a second (10 points, 50 lines of 100 B) for ${seconds} s, first 2 s not counted`, async (split) => {
    const base = await reportRaw(c.raw, n, seconds, 2, shape, c.params);
    const conns = apis(c.server.url, n);
    await split();
    const mr = await reportModelreg(conns, seconds, 2, shape).finally(() => closeAll(conns));
    const sent = (r: typeof mr) => r.returned.size + r.errors;
    return { figures: reportFigures(mr, base, n * (seconds - 2)), calls: { what: "report (all sent, warm-up included)", modelreg: sent(mr), baseline: sent(base) } };
  });
}

async function watchPhase(c: Ctx): Promise<void> {
  const o = {
    tasks: num(c.values, "watch-tasks", 1, 1000),
    watchers: num(c.values, "watchers", 1, 10_000),
    seconds: num(c.values, "watch-seconds", 3, 600),
    warmupSeconds: 2,
    shape: { points: 10, lines: 50, lineBytes: 100 },
  };
  const connections = Math.min(o.watchers, num(c.values, "watch-connections", 1, 1000));
  await phase(c, "3", `${o.watchers} WatchTask streams over ${connections} connections on ${o.tasks} tasks, each reported on once a second for ${o.seconds} s`, async (split) => {
    const base = await watchRaw(c.raw, o, c.params);
    const reporters = apis(c.server.url, o.tasks);
    const watchers = apis(c.server.url, connections);
    await split();
    const mr = await watchModelreg(reporters, watchers, o).finally(() => closeAll([...reporters, ...watchers]));
    const sent = (r: typeof mr) => r.reports.returned.size + r.reports.errors;
    return { figures: watchFigures(mr, base), calls: { what: `report with its ${fmt(o.watchers / o.tasks, 1)} deliveries`, modelreg: sent(mr), baseline: sent(base) } };
  });
}

async function logsPhase(c: Ctx): Promise<void> {
  const mib = num(c.values, "log-mib", 1, 100_000);
  const maxSeconds = num(c.values, "log-seconds", 5, 3600);
  const o = { totalBytes: mib * 2 ** 20, lines: 1000, lineBytes: 1000, capBytes: LOG_CAP_BYTES, tailEveryMs: 1000, maxSeconds };
  const what = `one task writing ${mib} MiB of logs or for ${maxSeconds} s, whichever ends first (reports of 1,000 lines of 1,000 B, one at a time; cap ${LOG_CAP_BYTES >> 20} MiB)`;
  await phase(c, "5", `${what}, tail=100 read every second`, async (split) => {
    const base = await logsRaw(c.raw, o, c.params);
    const [writer, reader] = apis(c.server.url, 2) as [Api, Api];
    await split();
    const mr = await logsModelreg(writer, reader, o).finally(() => closeAll([writer, reader]));
    return { figures: logFigures(mr, base, mib), calls: { what: "report of 1,000 lines", modelreg: mr.reportMs.length, baseline: base.reportMs.length } };
  });
}

async function leasePhase(c: Ctx, leaseSeconds: number, start: () => Promise<ServerProcess>, stop: (s: ServerProcess) => Promise<void>): Promise<void> {
  const o = { tasks: 3, reports: 3, leaseSeconds };
  log(`phase 4: a killed worker's task queued again, TASK_LEASE_SECONDS=${leaseSeconds}, ${o.tasks} workers…  (load ${loadavg()})`);
  // The baseline first, while no server runs: the server's own sweep would otherwise take the baseline's tasks.
  const b0 = await cpuSnapshot(c.sql, process.pid);
  const base = await leaseRaw(c.raw, o, c.params);
  const b1 = await cpuSnapshot(c.sql, process.pid);
  const server = await start();
  const mem = memoryWatch(server.pid);
  mem.phase();
  const conns = apis(server.url, o.tasks);
  try {
    const m0 = await cpuSnapshot(c.sql, server.pid);
    const mr = await leaseModelreg(conns, o);
    const m1 = await cpuSnapshot(c.sql, server.pid);
    const figures = leaseFigures(mr, base, leaseSeconds);
    figures.push({ phase: "4", figure: "server RSS, peak in phase", unit: "MB", value: mem.max(), target: { op: "<", limit: 250 } });
    const title = `a killed worker's task back in QUEUED (TASK_LEASE_SECONDS=${leaseSeconds}, sweep every second), ${o.tasks} workers`;
    c.phases.push({ id: "4", title, figures, baseline: { ...cpuBetween(b0, b1), server: 0 }, modelreg: cpuBetween(m0, m1), load: loadavg() });
  } finally {
    mem.stop();
    closeAll(conns);
    await stop(server);
  }
}
