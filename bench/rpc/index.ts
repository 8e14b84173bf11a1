// `npm run bench -- rpc [--seconds N] [--rounds N] [--creates N] [--only get,create,bulk]
//   [--cpu-prof DIR] [--server-arg=--node-flag ...] [--server-log FILE]` (the debug options apply to both servers)
//
// modelreg (apps/server/dist/main.mjs, the bundle npm start runs) against a
// bare Connect-ES + postgres.js server (./baseline-server.ts), both as their
// own processes on one fresh PostgreSQL database; the load generator is this
// process. Cases, each over Connect and gRPC (both HTTP/2) unless said:
//   GetVersion by resource name, 1 and 64 in flight: the baseline runs the
//     statement modelreg runs (the version joined with its model, its
//     aliases); modelreg with its access log on (LOG_LEVEL=info, one line
//     per call to stdout, read by this process as a log collector would);
//     target at 64 in flight ≥ 0.9× the baseline.
//   CreateVersion auto-numbered (empty version_id), 1 and 64 in flight, a
//     model of its own per case, side and round: baseline runs modelreg's
//     create statement itself (lock the model, next patch, insert, metric
//     rows, audit row, model counters); target at 64 in flight ≥ 0.8×.
//   CreateVersion, --creates (10,000) on ONE model at 16 in flight, Connect:
//     ≥ 0.8× the baseline, and the last tenth's calls/s within ±20% of the
//     first tenth's.
// Both sides speak the same protocols with Connect-ES's protocol code;
// modelreg answers unary calls over gRPC and Connect with handlers of its
// own built from those pieces (apps/server/src/http/unary-router.ts: no
// stream pipeline over gRPC, the abort signal made only when read), the
// baseline with Connect's.
// Every case runs in each of --rounds (3) rounds, baseline and modelreg back
// to back (modelreg first in even rounds), each round on a new pair of server
// processes, warmed alike (the seed data comes from a modelreg process of
// its own, stopped before round 1); the report gives per-round figures,
// the modelreg/baseline ratio per round with its min and median (targets are
// judged on the median), CPU per call of each side (the server's also split
// into what ran outside its main thread: V8's collector and compiler, the
// libuv pool), the load average at start and end, and a check that both
// sides' creates wrote the same rows. (The many-creates case's former
// absolute target, 600/s, swung with the machine's load; issue 17 made it a
// ratio to the baseline.)
// Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres;
// loopback only), a database modelreg_bench_<hex> is created and dropped.
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { createRegistryClient, type RegistryClient } from "@modelreg/sdk";
import postgres from "postgres";
import { closedLoop, type LoopResult } from "../lib/load.js";
import { DEFAULT_ROUNDS, describeLoad, type LoadReading, parseRounds, readLoad } from "../lib/machine.js";
import { minorFaults } from "../lib/memory.js";
import { cpuMs, mainThreadCpuMs, onInterrupt, SERVER_DEBUG_OPTIONS, serverDebug, type ServerProcess, startServer, startModelregServer } from "../lib/processes.js";
import { fmt, median, type Summary, summarize, table } from "../lib/stats.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The server-wide admin key the bench's modelreg process runs with. */
const BENCH_TOKEN = `bench-admin.${randomBytes(32).toString("base64url")}`;
const WARMUP_MS = 1000;
/** Longer before the many-creates case, so its first window measures the model, not the JIT. */
const BULK_WARMUP_MS = 3000;
/** Per server, method and protocol, before round 1. */
const START_WARMUP_MS = 2000;
const SEED_VERSIONS = 1000;
const BULK_IN_FLIGHT = 16;
/** The many-creates case is reported in this many windows of equal size. */
const WINDOWS = 10;
const TARGET_GET_RATIO = 0.9;
const TARGET_CREATE_RATIO = 0.8;
const TARGET_FLATNESS = 0.2;
const WORKSPACE = "workspaces/default";

type Protocol = "connect" | "grpc";
type Side = "baseline" | "modelreg";

interface Case {
  kind: "get" | "create" | "bulk";
  label: string;
  protocol: Protocol;
  inFlight: number;
  /** Least median modelreg/baseline ratio, when the case has a target. */
  target?: number;
}

interface Client {
  api: RegistryClient;
  /** TCP connections opened by this client's transport so far. */
  connections(): number;
  close(): void;
}

/** An SDK client over a transport with exactly one HTTP/2 session manager. */
function client(baseUrl: string, protocol: Protocol): Client {
  let opened = 0;
  const manager = new Http2SessionManager(baseUrl, {}, {
    createConnection: (authority: URL) => {
      opened++;
      return net.connect({ host: authority.hostname, port: Number(authority.port) });
    },
  });
  const options = { baseUrl, httpVersion: "2", sessionManager: manager, defaultTimeoutMs: 30_000 } as const;
  const transport = protocol === "grpc" ? createGrpcTransport(options) : createConnectTransport(options);
  return { api: createRegistryClient({ baseUrl, transport, accessKey: BENCH_TOKEN }), connections: () => opened, close: () => manager.abort() };
}

interface Cpu {
  server: number;
  /** Of `server`, what its threads other than the main one took (V8's collector and compiler, the libuv pool). */
  serverHelpers: number;
  postgres: number;
  /** Minor page faults of the PostgreSQL backends (memory they touched fresh: dear on these VMs, see bench transfer's head). */
  postgresFaults: number;
  generator: number;
}

/** One side of one case in one round. */
interface Run {
  round: number;
  case: Case;
  side: Side;
  summary: Summary;
  errors: number;
  connections: number;
  /** CPU ms used during the measurement, per process group. */
  cpu: Cpu;
  /** Many-creates case: calls/s per window, in completion order. */
  windows?: number[];
  /** Create cases: "ok" when the model's rows match the calls, else what differs. */
  rows?: string;
  /** Create cases: the first version row and its audit row, less what differs by call (ids, times, model). */
  sample?: Record<string, unknown>;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string", default: "5" },
      rounds: { type: "string", default: String(DEFAULT_ROUNDS) },
      creates: { type: "string", default: "10000" },
      only: { type: "string" },
      ...SERVER_DEBUG_OPTIONS,
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new Error(`--seconds ${values.seconds}: expected a number of seconds from 0 to 600`);
  const rounds = parseRounds(values.rounds);
  const creates = Number(values.creates);
  if (!(Number.isInteger(creates) && creates >= 100 && creates % WINDOWS === 0 && creates <= 1_000_000))
    throw new Error(`--creates ${values.creates}: expected a multiple of ${WINDOWS} from 100 to 1,000,000`);
  const only = values.only === undefined ? undefined : new Set(values.only.split(","));
  for (const k of only ?? []) if (!["get", "create", "bulk"].includes(k)) throw new Error(`--only ${values.only}: expected a comma-separated list of get, create and bulk`);
  const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(adminUrl).hostname)) throw new Error("BENCH_DATABASE_URL must point at a loopback address");
  const loadStart = readLoad();

  const dbName = `modelreg_bench_${randomBytes(5).toString("hex")}`;
  const dbUrlObj = new URL(adminUrl);
  dbUrlObj.pathname = `/${dbName}`;
  const dbUrl = dbUrlObj.toString();
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  onInterrupt(() => admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  // Reads the rows the creates wrote, between measurements (idle during them).
  const check = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const servers: ServerProcess[] = [];
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const stopServer = async (s: ServerProcess) => {
    await s.stop(values["cpu-prof"] ? 60_000 : 5000); // writing a profile takes a while
    if (values["cpu-prof"]) log(`${s.name} CPU profile written to ${values["cpu-prof"]}`);
  };

  // CPU time and minor faults of the backends serving the bench database (Linux /proc).
  const pgUsage = async (): Promise<Map<number, { ms: number; faults: number }>> => {
    const rows = await admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = ${dbName}`;
    return new Map(rows.map((r) => [r.pid, { ms: cpuMs(r.pid), faults: minorFaults(r.pid) }]));
  };
  const measure = async (server: ServerProcess, body: () => Promise<LoopResult>): Promise<{ r: LoopResult; cpu: Cpu }> => {
    const [srv0, main0, pg0, gen0] = [cpuMs(server.pid), mainThreadCpuMs(server.pid), await pgUsage(), process.cpuUsage()];
    const r = await body();
    const [srv1, main1, pg1, gen1] = [cpuMs(server.pid), mainThreadCpuMs(server.pid), await pgUsage(), process.cpuUsage(gen0)];
    let pg = 0;
    let pgFaults = 0;
    for (const [pid, now] of pg1) {
      pg += now.ms - (pg0.get(pid)?.ms ?? 0);
      pgFaults += now.faults - (pg0.get(pid)?.faults ?? 0);
    }
    return {
      r,
      cpu: { server: srv1 - srv0, serverHelpers: srv1 - srv0 - (main1 - main0), postgres: pg, postgresFaults: pgFaults, generator: (gen1.user + gen1.system) / 1000 },
    };
  };

  /** The first version created on `modelId` and its audit row, less ids, times, model and request id. */
  const sampleRows = async (modelId: string): Promise<Record<string, unknown>> => {
    const [row] = await check<{ v: Record<string, unknown> | null; a: Record<string, unknown> | null }[]>`
      SELECT (SELECT to_jsonb(v) - ARRAY['id', 'model_id', 'seq', 'create_time', 'update_time'] FROM versions v WHERE v.model_id = m.id ORDER BY v.seq LIMIT 1) AS v,
             (SELECT to_jsonb(a) - ARRAY['id', 'time', 'resource', 'request_id'] FROM audit_events a
               WHERE a.resource = ${`${WORKSPACE}/models/${modelId}`} ORDER BY a.id LIMIT 1) AS a
      FROM models m WHERE m.workspace = 'default' AND m.name_key = ${modelId}`;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row?.v ?? {})) out[`versions.${k}`] = v;
    for (const [k, v] of Object.entries(row?.a ?? {})) out[`audit_events.${k}`] = v;
    return out;
  };

  /** Did the creates on `modelId` write one version and one audit row each, and move the model's counters once each? */
  const checkRows = async (modelId: string, calls: number, errors: number): Promise<string> => {
    const [m] = await check<{ versionCount: number; nextAutoPatch: string; latestVersion: string; versions: number; audits: number }[]>`
      SELECT m.version_count AS "versionCount", m.next_auto_patch::text AS "nextAutoPatch", m.latest_version AS "latestVersion",
             (SELECT count(*)::int FROM versions v WHERE v.model_id = m.id) AS versions,
             (SELECT count(*)::int FROM audit_events a
               WHERE a.resource = ${`${WORKSPACE}/models/${modelId}`} AND a.method = 'modelreg.v1.VersionService/CreateVersion' AND a.code = 'ok') AS audits
      FROM models m WHERE m.workspace = 'default' AND m.name_key = ${modelId}`;
    if (!m) return `model ${modelId} missing`;
    const n = m.versions;
    const wrong: string[] = [];
    if (n < calls || n > calls + errors) wrong.push(`${n} versions for ${calls} calls`);
    if (m.audits !== n) wrong.push(`${m.audits} audit rows`);
    if (m.versionCount !== n) wrong.push(`version_count ${m.versionCount}`);
    if (Number(m.nextAutoPatch) !== n) wrong.push(`next_auto_patch ${m.nextAutoPatch}`);
    if (n > 0 && m.latestVersion !== `1.0.${n - 1}`) wrong.push(`latest_version ${m.latestVersion}`);
    return wrong.length ? wrong.join(", ") : "ok";
  };

  let adminApi: Client | undefined;
  try {
    log(`bench rpc: database ${dbName}; load average ${loadStart.one.toFixed(2)}; starting modelreg to seed…`);
    const debug = serverDebug(values);
    const seedModel = `${WORKSPACE}/models/bench-get`;
    const started = async (side: Side, name: string) => {
      const common = { name, onLine: debug.onLine(name), cwd: REPO_ROOT };
      const s =
        side === "modelreg"
          ? await startModelregServer({
              ...common,
              nodeArgs: debug.nodeArgs,
              // Auth on, as in production, with the rate limit set high enough to
              // measure its cost without throttling the one bench key.
              env: { DATABASE_URL: dbUrl, DATABASE_POOL_SIZE: "10", LOG_LEVEL: "info", MODELREG_ADMIN_KEY: BENCH_TOKEN, RATE_LIMIT_PER_KEY: "1000000", RATE_LIMIT_BURST: "1000000" },
            })
          : await startServer({
              ...common,
              nodeArgs: [...debug.nodeArgs, "--conditions=@modelreg/source", "--import", "tsx", "bench/rpc/baseline-server.ts"],
              env: { DATABASE_URL: dbUrl, DATABASE_POOL_SIZE: "10", BENCH_MODEL: seedModel },
            });
      servers.push(s);
      return s;
    };
    const stop = async (s: ServerProcess) => {
      servers.splice(servers.indexOf(s), 1);
      await stopServer(s);
    };

    // Seed: one model with 1,000 versions (through the API, so rows are
    // real), by a modelreg process of its own, which is then stopped.
    const seeding = await started("modelreg", "modelreg-seeding");
    adminApi = client(seeding.url, "connect");
    const seeder = adminApi;
    // Models are made through modelreg (the baseline has no CreateModel): the seeding process, then each round's.
    const createModel = (modelId: string) => adminApi!.api.models.createModel({ parent: WORKSPACE, modelId });
    await createModel("bench-get");
    const seeded: { name: string; uid: string }[] = [];
    const seed = await closedLoop({
      workers: 8,
      maxCalls: SEED_VERSIONS,
      call: async (n) => {
        const { version } = await seeder.api.versions.createVersion({
          parent: seedModel,
          version: { description: `seeded by bench rpc (${n})`, labels: { stage: "bench", team: "ml-platform", n: String(n) } },
        });
        seeded.push({ name: version!.name, uid: version!.uid });
      },
    });
    if (seed.errors) throw new Error(`seeding failed: ${String(seed.firstError)}`);
    log(`seeded ${seeded.length} versions of ${seedModel}`);
    // Warm-up creates go to a model of each side's own.
    for (const side of ["baseline", "modelreg"] as const) await createModel(`warmup-${side}`);
    seeder.close();
    adminApi = undefined;
    await stop(seeding);

    const all: Case[] = [];
    for (const [kind, label, target] of [
      ["get", "GetVersion", TARGET_GET_RATIO],
      ["create", "CreateVersion", TARGET_CREATE_RATIO],
    ] as const)
      for (const protocol of ["connect", "grpc"] as const)
        for (const inFlight of [1, 64]) all.push({ kind, label, protocol, inFlight, ...(inFlight === 64 ? { target } : {}) });
    all.push({ kind: "bulk", label: `CreateVersion ×${fmt(creates)}, one model`, protocol: "connect", inFlight: BULK_IN_FLIGHT, target: TARGET_CREATE_RATIO });
    const cases = only ? all.filter((c) => only.has(c.kind)) : all;

    const pick = () => seeded[Math.floor(Math.random() * seeded.length)]!;
    const runCase = async (round: number, c: Case, side: Side): Promise<Run> => {
      const server = serverOf[side];
      log(`round ${round}: ${c.label} ${side} ${c.protocol} ${c.inFlight} in flight…`);
      const cl = client(server.url, c.protocol);
      try {
        const createOn = (modelId: string) => () => cl.api.versions.createVersion({ parent: `${WORKSPACE}/models/${modelId}` });
        let m: { r: LoopResult; cpu: Cpu };
        let modelId = "";
        if (c.kind === "get") {
          const call = () => cl.api.versions.getVersion({ ref: { case: "name", value: pick().name } });
          await closedLoop({ workers: c.inFlight, durationMs: WARMUP_MS, call });
          m = await measure(server, () => closedLoop({ workers: c.inFlight, durationMs: seconds * 1000, call }));
        } else {
          // A new model per case, side and round, so both sides start from an empty one.
          modelId = c.kind === "bulk" ? `r${round}-bulk-${side}` : `r${round}-${c.protocol}-${c.inFlight}-${side}`;
          await createModel(modelId);
          await closedLoop({ workers: c.inFlight, durationMs: c.kind === "bulk" ? BULK_WARMUP_MS : WARMUP_MS, call: createOn(`warmup-${side}`) });
          const loop = c.kind === "bulk" ? { maxCalls: creates } : { durationMs: seconds * 1000 };
          m = await measure(server, () => closedLoop({ workers: c.inFlight, ...loop, call: createOn(modelId) }));
        }
        if (m.r.errors) log(`  ${m.r.errors} errors, first: ${String(m.r.firstError)}`);
        const result: Run = { round, case: c, side, summary: summarize(m.r.latenciesMs, m.r.seconds), errors: m.r.errors, connections: cl.connections(), cpu: m.cpu };
        if (c.kind === "bulk") result.windows = windowRates(m.r.doneAtMs, creates / WINDOWS);
        if (modelId) {
          result.rows = await checkRows(modelId, result.summary.calls, result.errors);
          if (result.rows !== "ok") log(`  rows of ${modelId} do not match the calls: ${result.rows}`);
          result.sample = await sampleRows(modelId);
        }
        return result;
      } finally {
        cl.close();
      }
    };

    // Each round runs on a new pair of server processes: one process keeps
    // its own offset for its whole life (how the JIT compiled its hot code,
    // how its heap grew), which moved one process's ratio by up to 0.08
    // against another of the same build in one run, so three rounds on one
    // pair were one draw of that offset, not three. Both get the same
    // untimed load on every method and protocol before their round, so the
    // first case does not measure a cold JIT on one side, and their
    // PostgreSQL connections have both written: a backend that has not
    // spends about twice the CPU on each GetVersion statement (a page fault
    // per query in its allocator).
    const serverOf = {} as Record<Side, ServerProcess>;
    const freshPair = async (round: number) => {
      for (const side of ["baseline", "modelreg"] as const) {
        if (serverOf[side]) await stop(serverOf[side]);
        serverOf[side] = await started(side, `${side}-r${round}`);
      }
      adminApi?.close();
      adminApi = client(serverOf.modelreg.url, "connect");
      for (const side of ["baseline", "modelreg"] as const)
        for (const protocol of ["connect", "grpc"] as const) {
          log(`warming ${side} over ${protocol}…`);
          const cl = client(serverOf[side].url, protocol);
          const get = () => cl.api.versions.getVersion({ ref: { case: "name", value: pick().name } });
          await closedLoop({ workers: BULK_IN_FLIGHT, durationMs: START_WARMUP_MS, call: get });
          await closedLoop({ workers: BULK_IN_FLIGHT, durationMs: START_WARMUP_MS, call: () => cl.api.versions.createVersion({ parent: `${WORKSPACE}/models/warmup-${side}` }) });
          cl.close();
        }
    };

    const runs: Run[] = [];
    const roundLoads: LoadReading[] = [];
    for (let round = 1; round <= rounds; round++) {
      const flip = round % 2 === 0;
      await freshPair(round);
      roundLoads.push(readLoad());
      log(`round ${round}/${rounds}${flip ? " (modelreg first)" : ""}`);
      for (const c of cases) for (const side of flip ? (["modelreg", "baseline"] as const) : (["baseline", "modelreg"] as const)) runs.push(await runCase(round, c, side));
    }
    // Same work: modelreg's rows and the baseline's hold the same values.
    for (const r of runs) {
      if (r.side !== "modelreg" || !r.sample) continue;
      const b = runs.find((x) => x.round === r.round && x.case === r.case && x.side === "baseline")!;
      const keys = new Set([...Object.keys(r.sample), ...Object.keys(b.sample ?? {})]);
      const differ = [...keys].filter((k) => JSON.stringify(r.sample![k]) !== JSON.stringify(b.sample?.[k]));
      if (differ.length) {
        const what = `columns differ from the baseline's: ${differ.map((k) => `${k} ${JSON.stringify(r.sample![k])} vs ${JSON.stringify(b.sample?.[k])}`).join(", ")}`;
        r.rows = r.rows === "ok" ? what : `${r.rows}; ${what}`;
      }
    }
    print({ runs, cases, rounds, seconds, creates, roundLoads, loadStart, loadEnd: readLoad() });
  } finally {
    adminApi?.close();
    await check.end({ timeout: 1 });
    for (const s of servers.reverse()) await stopServer(s).catch(() => {});
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((e) => log(`could not drop ${dbName}: ${String(e)}`));
    await admin.end({ timeout: 1 });
  }
}

/** Calls/s of each window of `size` calls, in completion order (the first from the loop's start). */
function windowRates(doneAtMs: number[], size: number): number[] {
  const rates: number[] = [];
  for (let end = size; end <= doneAtMs.length; end += size) {
    const t0 = end === size ? 0 : doneAtMs[end - size - 1]!;
    rates.push(size / ((doneAtMs[end - 1]! - t0) / 1000));
  }
  return rates;
}


/** Last window's calls/s over the first's. */
const flatness = (r: Run) => (r.windows && r.windows.length > 1 ? r.windows.at(-1)! / r.windows[0]! : NaN);

function print(o: {
  runs: Run[];
  cases: Case[];
  rounds: number;
  seconds: number;
  creates: number;
  roundLoads: LoadReading[];
  loadStart: LoadReading;
  loadEnd: LoadReading;
}): void {
  const perCall = (ms: number, r: Run) => (ms * 1000) / r.summary.calls;
  const find = (round: number, c: Case, side: Side) => o.runs.find((r) => r.round === round && r.case === c && r.side === side)!;
  const ratioOf = (round: number, c: Case) => find(round, c, "modelreg").summary.perSecond / find(round, c, "baseline").summary.perSecond;
  const roundList = Array.from({ length: o.rounds }, (_, i) => i + 1);

  // Per round: every measurement, the ratio on modelreg's rows.
  const perRound = o.runs.map((r) => [
    String(r.round),
    r.case.label,
    r.side,
    r.case.protocol,
    String(r.case.inFlight),
    fmt(r.summary.calls),
    fmt(r.summary.perSecond),
    fmt(r.summary.p50, 2),
    fmt(r.summary.p99, 2),
    fmt(r.errors),
    r.side === "modelreg" ? `${fmt(ratioOf(r.round, r.case), 2)}×` : "",
    String(r.connections),
    fmt(perCall(r.cpu.server, r)),
    fmt(perCall(r.cpu.serverHelpers, r)),
    fmt(perCall(r.cpu.postgres, r)),
    fmt(r.cpu.postgresFaults / r.summary.calls, 2),
    fmt(perCall(r.cpu.generator, r)),
    r.rows === undefined ? "" : r.rows === "ok" ? "ok" : "MISMATCH",
  ]);

  // Per case: medians over rounds, the ratio of each round, its min and median.
  const both = (c: Case, f: (r: Run) => number, digits = 0) =>
    `${fmt(median(roundList.map((n) => f(find(n, c, "baseline")))), digits)} / ${fmt(median(roundList.map((n) => f(find(n, c, "modelreg")))), digits)}`;
  const verdicts: string[] = [];
  const summary = o.cases.map((c) => {
    const ratios = roundList.map((n) => ratioOf(n, c));
    const med = median(ratios);
    const pass = c.target === undefined ? undefined : med >= c.target;
    if (pass !== undefined) verdicts.push(`${c.label} ${c.protocol} ${c.inFlight}: ${pass ? "PASS" : "MISS"}`);
    return [
      c.label,
      c.protocol,
      String(c.inFlight),
      both(c, (r) => r.summary.perSecond),
      ratios.map((x) => fmt(x, 2)).join(" "),
      `${fmt(Math.min(...ratios), 2)}×`,
      `${fmt(med, 2)}×`,
      c.target === undefined ? "" : `≥${c.target}×`,
      pass === undefined ? "" : pass ? "PASS" : "MISS",
      both(c, (r) => r.summary.p50, 2),
      both(c, (r) => perCall(r.cpu.server, r)),
      both(c, (r) => perCall(r.cpu.serverHelpers, r)),
      both(c, (r) => perCall(r.cpu.postgres, r)),
      both(c, (r) => r.cpu.postgresFaults / r.summary.calls, 2),
      both(c, (r) => perCall(r.cpu.generator, r)),
    ];
  });

  // The many-creates case: calls/s per window, and last window over first.
  const bulk = o.cases.find((c) => c.kind === "bulk");
  const size = o.creates / WINDOWS;
  let bulkLines: string[] = [];
  if (bulk) {
    const flat = median(roundList.map((n) => flatness(find(n, bulk, "modelreg"))));
    const flatPass = Math.abs(flat - 1) <= TARGET_FLATNESS;
    verdicts.push(`${bulk.label} flatness: ${flatPass ? "PASS" : "MISS"}`);
    bulkLines = [
      `${bulk.label}, calls/s per ${fmt(size)} versions in completion order (target: modelreg's last/first within ±${TARGET_FLATNESS * 100}%, median ${fmt(flat, 2)}× ${flatPass ? "PASS" : "MISS"}):`,
      ...o.runs.filter((r) => r.case === bulk).map((r) => `  round ${r.round} ${r.side.padEnd(8)} ${r.windows!.map((w) => fmt(w)).join(" ")}  (last/first ${fmt(flatness(r), 2)}×)`),
      "",
    ];
  }

  const mismatched = o.runs.filter((r) => r.rows !== undefined && r.rows !== "ok");
  const createRuns = o.runs.filter((r) => r.rows !== undefined).length;

  const out = [
    "",
    `bench rpc — ${new Date().toISOString()}, node ${process.version}, ${availableParallelism()} CPUs (load generator, servers and PostgreSQL share them)`,
    describeLoad(o.loadStart, o.loadEnd),
    `${o.rounds} round(s) after ${START_WARMUP_MS / 1000} s of untimed GetVersion and CreateVersion per server and protocol; in each, every case runs on the baseline and on modelreg back to back (modelreg first in even rounds), each after its own warm-up (${WARMUP_MS / 1000} s; ${BULK_WARMUP_MS / 1000} s before the many-creates case).`,
    `GetVersion: ${o.seconds} s measured per side, closed loop; ${SEED_VERSIONS} seeded versions picked at random (both by name, the same statement; modelreg with its access log on).`,
    `CreateVersion: empty version_id (the next patch), ${o.seconds} s per side on an empty model of its own; then ${fmt(o.creates)} creates on one empty model at ${BULK_IN_FLIGHT} in flight.`,
    "  Both sides run one statement (its own transaction): lock the model FOR UPDATE, insert the version numbered next_auto_prefix || next_auto_patch, its metric rows, the audit row, and move version_count/latest_version/next_auto_patch.",
    "Each case uses a new client with one HTTP/2 connection (one Http2SessionManager per transport); \"conns\" counts the TCP connections it opened.",
    "Latency in ms; CPU columns are µs of CPU per call in the server process, the PostgreSQL backends of the bench database, and this (load-generating) process; pg faults/call: minor page faults of those backends per call (memory touched fresh).",
    "\"of it helpers\": the server's CPU outside its main thread: V8's garbage collector (concurrent marking, parallel scavenges) and its optimising compiler, and the libuv pool.",
    "",
    "Per round",
    table(
      [">round", "case", "server", "proto", ">in flight", ">calls", ">calls/s", ">p50 ms", ">p99 ms", ">errors", ">vs baseline", ">conns", ">srv µs/call", ">of it helpers", ">pg µs/call", ">pg faults/call", ">gen µs/call", "rows"],
      perRound,
    ),
    `load average (1-minute) at the start of each round: ${o.roundLoads.map((l) => l.one.toFixed(2)).join(", ")}`,
    "",
    "Per case (baseline / modelreg: medians over rounds; vs baseline = modelreg calls/s ÷ baseline calls/s of the same round; targets judged on the median)",
    table(
      ["case", "proto", ">in flight", ">calls/s", "per round", ">min", ">median", "target", "result", ">p50 ms", ">srv µs/call", ">of it helpers", ">pg µs/call", ">pg faults/call", ">gen µs/call"],
      summary,
    ),
    "",
    ...bulkLines,
    mismatched.length === 0
      ? `Rows: in all ${createRuns} create runs each call wrote one version and one audit row and moved the model's counters once, and modelreg's rows hold the values of the baseline's (all columns but ids, times, model and request id).`
      : `Rows MISMATCH in ${mismatched.length} of ${createRuns} create runs: ${mismatched.map((r) => `round ${r.round} ${r.case.label} ${r.side} ${r.case.protocol} ${r.case.inFlight}: ${r.rows}`).join("; ")}`,
    `Targets: ${verdicts.join("; ")}.`,
    "Targets are reported, not enforced: the exit code is 0 unless the benchmark itself crashed.",
    "",
  ];
  process.stdout.write(out.join("\n"));
}
