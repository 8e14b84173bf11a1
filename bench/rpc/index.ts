// `npm run bench -- rpc [--seconds N] [--cpu-prof DIR]`
//
// modelreg (apps/server/dist/main.mjs, the bundle npm start runs) against a bare Connect-ES + postgres.js
// server (./baseline-server.ts), both as their own processes on one fresh
// PostgreSQL database; the load generator is this process. Cases:
//   GetVersion, 1 and 64 in flight, Connect and gRPC (both over HTTP/2):
//     baseline (by uid, one PK SELECT) vs modelreg (by resource name);
//   CreateVersion with auto-numbering: 1 and 64 in flight, Connect and gRPC,
//     one model per case; then 10,000
//     creates on ONE model at 16 in flight, reported per 1,000-version window.
// Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres;
// loopback only), a database modelreg_bench_<hex> is created and dropped.
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import * as net from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { createRegistryClient, type RegistryClient } from "@modelreg/sdk";
import postgres from "postgres";
import { closedLoop, type LoopResult } from "../lib/load.js";
import { cpuMs, onInterrupt, startServer, type ServerProcess, modelregServerArgs } from "../lib/processes.js";
import { fmt, summarize, table, type Summary } from "../lib/stats.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The server-wide admin key the bench's modelreg process runs with. */
const BENCH_TOKEN = `bench-admin.${randomBytes(32).toString("base64url")}`;
const WARMUP_MS = 1000;
/** Longer for the 10,000-create run, so its first window measures the model, not the JIT. */
const CREATE_WARMUP_MS = 3000;
const SEED_VERSIONS = 1000;
const CREATE_TOTAL = 10_000;
const WINDOW = 1000;
const TARGET_GET_RATIO = 0.8;
const TARGET_CREATE_PER_S = 600;
const TARGET_FLATNESS = 0.2;

type Protocol = "connect" | "grpc";

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
  postgres: number;
  generator: number;
}

interface Row {
  case: string;
  server: string;
  protocol: Protocol;
  inFlight: number;
  summary: Summary;
  errors: number;
  connections: number;
  /** CPU ms used during the measurement, per process group. */
  cpu: Cpu;
  ratio?: number;
  target?: string;
  pass?: boolean;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { seconds: { type: "string", default: "5" }, "cpu-prof": { type: "string" } } });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new Error(`--seconds ${values.seconds}: expected a number of seconds from 0 to 600`);
  const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(adminUrl).hostname)) throw new Error("BENCH_DATABASE_URL must point at a loopback address");

  const dbName = `modelreg_bench_${randomBytes(5).toString("hex")}`;
  const dbUrlObj = new URL(adminUrl);
  dbUrlObj.pathname = `/${dbName}`;
  const dbUrl = dbUrlObj.toString();
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  onInterrupt(() => admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  const servers: ServerProcess[] = [];
  const log = (s: string) => process.stderr.write(`${s}\n`);

  // CPU time of the backends serving the bench database (Linux /proc).
  const pgCpu = async (): Promise<Map<number, number>> => {
    const rows = await admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = ${dbName}`;
    return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
  };
  const measure = async (server: ServerProcess, body: () => Promise<LoopResult>): Promise<{ r: LoopResult; cpu: Cpu }> => {
    const [srv0, pg0, gen0] = [cpuMs(server.pid), await pgCpu(), process.cpuUsage()];
    const r = await body();
    const [srv1, pg1, gen1] = [cpuMs(server.pid), await pgCpu(), process.cpuUsage(gen0)];
    let pg = 0;
    for (const [pid, ms] of pg1) pg += ms - (pg0.get(pid) ?? 0);
    return { r, cpu: { server: srv1 - srv0, postgres: pg, generator: (gen1.user + gen1.system) / 1000 } };
  };

  try {
    log(`bench rpc: database ${dbName}; starting modelreg…`);
    const prof = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : [];
    const modelreg = await startServer({
      name: "modelreg",
      nodeArgs: [...prof, ...modelregServerArgs(REPO_ROOT)],
      cwd: REPO_ROOT,
      // Auth on, as in production, with the rate limit set high enough to
      // measure its cost without throttling the one bench key.
      env: { DATABASE_URL: dbUrl, DATABASE_POOL_SIZE: "10", LOG_LEVEL: "warn", MODELREG_ADMIN_KEY: BENCH_TOKEN, RATE_LIMIT_PER_KEY: "1000000", RATE_LIMIT_BURST: "1000000" },
    });
    servers.push(modelreg);

    // Seed: one model with 1,000 versions (through the API, so rows are real).
    const seedModel = "workspaces/default/models/bench-get";
    const seeder = client(modelreg.url, "connect");
    await seeder.api.models.createModel({ parent: "workspaces/default", modelId: "bench-get" });
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
    seeder.close();
    if (seed.errors) throw new Error(`seeding failed: ${String(seed.firstError)}`);
    log(`seeded ${seeded.length} versions of ${seedModel}; starting baseline…`);

    const baseline = await startServer({
      name: "baseline",
      nodeArgs: ["--conditions=@modelreg/source", "--import", "tsx", "bench/rpc/baseline-server.ts"],
      cwd: REPO_ROOT,
      env: { DATABASE_URL: dbUrl, DATABASE_POOL_SIZE: "10", BENCH_MODEL: seedModel },
    });
    servers.push(baseline);

    const rows: Row[] = [];
    const pick = () => seeded[Math.floor(Math.random() * seeded.length)]!;

    // GetVersion: baseline and modelreg back to back for each (protocol, in flight).
    for (const protocol of ["connect", "grpc"] as const)
      for (const inFlight of [1, 64]) {
        let base: Row | undefined;
        for (const server of [baseline, modelreg]) {
          log(`GetVersion ${server.name} ${protocol} ${inFlight} in flight…`);
          const c = client(server.url, protocol);
          const call =
            server === baseline
              ? () => c.api.versions.getVersion({ ref: { case: "uid", value: pick().uid } })
              : () => c.api.versions.getVersion({ ref: { case: "name", value: pick().name } });
          await closedLoop({ workers: inFlight, durationMs: WARMUP_MS, call });
          const { r, cpu } = await measure(server, () => closedLoop({ workers: inFlight, durationMs: seconds * 1000, call }));
          const row: Row = {
            case: "GetVersion",
            server: server.name,
            protocol,
            inFlight,
            summary: summarize(r.latenciesMs, r.seconds),
            errors: r.errors,
            connections: c.connections(),
            cpu,
          };
          if (r.errors) log(`  ${r.errors} errors, first: ${String(r.firstError)}`);
          c.close();
          if (server === baseline) {
            base = { ...row, ratio: 1 };
            rows.push(base);
          } else {
            row.ratio = row.summary.perSecond / base!.summary.perSecond;
            if (protocol === "connect" && inFlight === 64) {
              row.target = `≥${TARGET_GET_RATIO}× baseline`;
              row.pass = row.ratio >= TARGET_GET_RATIO;
            }
            rows.push(row);
          }
        }
      }

    // CreateVersion with auto-numbering at 1 and 64 in flight, Connect and
    // gRPC: each case on a model of its own (warm-up on another).
    const creator = client(modelreg.url, "connect");
    for (const id of ["bench-create-warmup", "bench-create-10k"]) await creator.api.models.createModel({ parent: "workspaces/default", modelId: id });
    const createOn = (c: Client, model: string) => () => c.api.versions.createVersion({ parent: `workspaces/default/models/${model}` });
    for (const protocol of ["connect", "grpc"] as const)
      for (const inFlight of [1, 64]) {
        log(`CreateVersion modelreg ${protocol} ${inFlight} in flight…`);
        const c = client(modelreg.url, protocol);
        const model = `bench-create-${protocol}-${inFlight}`;
        await c.api.models.createModel({ parent: "workspaces/default", modelId: model });
        await closedLoop({ workers: inFlight, durationMs: WARMUP_MS, call: createOn(c, "bench-create-warmup") });
        const m = await measure(modelreg, () => closedLoop({ workers: inFlight, durationMs: seconds * 1000, call: createOn(c, model) }));
        if (m.r.errors) log(`  ${m.r.errors} errors, first: ${String(m.r.firstError)}`);
        rows.push({
          case: "CreateVersion (auto-numbered)",
          server: "modelreg",
          protocol,
          inFlight,
          summary: summarize(m.r.latenciesMs, m.r.seconds),
          errors: m.r.errors,
          connections: c.connections(),
          cpu: m.cpu,
        });
        c.close();
      }

    // CreateVersion, 16 in flight, 10,000 versions of ONE model.
    log(`CreateVersion modelreg connect 16 in flight, ${CREATE_TOTAL} versions of one model…`);
    await closedLoop({ workers: 16, durationMs: CREATE_WARMUP_MS, call: createOn(creator, "bench-create-warmup") });
    const bulk = await measure(modelreg, () => closedLoop({ workers: 16, maxCalls: CREATE_TOTAL, call: createOn(creator, "bench-create-10k") }));
    if (bulk.r.errors) log(`  ${bulk.r.errors} errors, first: ${String(bulk.r.firstError)}`);
    const done = bulk.r.doneAtMs;
    const windowRow = (label: string, from: number, to: number): Row => {
      // Versions from..to (1-based, in completion order); the window runs from
      // the previous completion (or the start) to the completion of `to`.
      const t0 = from === 1 ? 0 : (done[from - 2] ?? NaN);
      const t1 = done[to - 1] ?? NaN;
      const s = summarize(bulk.r.latenciesMs.slice(from - 1, to), (t1 - t0) / 1000);
      return { case: `CreateVersion ${label}`, server: "modelreg", protocol: "connect", inFlight: 16, summary: s, errors: NaN, connections: creator.connections(), cpu: { server: NaN, postgres: NaN, generator: NaN } };
    };
    const first = windowRow(`versions 1–${fmt(WINDOW)}`, 1, WINDOW);
    const last = windowRow(`versions ${fmt(CREATE_TOTAL - WINDOW + 1)}–${fmt(CREATE_TOTAL)}`, CREATE_TOTAL - WINDOW + 1, CREATE_TOTAL);
    const all: Row = {
      case: `CreateVersion all ${fmt(CREATE_TOTAL)} on one model`,
      server: "modelreg",
      protocol: "connect",
      inFlight: 16,
      summary: summarize(bulk.r.latenciesMs, bulk.r.seconds),
      errors: bulk.r.errors,
      connections: creator.connections(),
      cpu: bulk.cpu,
      target: `≥${TARGET_CREATE_PER_S}/s`,
    };
    all.pass = all.summary.perSecond >= TARGET_CREATE_PER_S;
    const flat = last.summary.perSecond / first.summary.perSecond;
    last.target = `±${TARGET_FLATNESS * 100}% of 1st window: ${fmt(flat, 2)}×`;
    last.pass = Math.abs(flat - 1) <= TARGET_FLATNESS;
    rows.push(first, last, all);
    creator.close();

    const windows: number[] = [];
    for (let i = WINDOW; i <= done.length; i += WINDOW) windows.push(WINDOW / ((done[i - 1]! - (i === WINDOW ? 0 : done[i - WINDOW - 1]!)) / 1000));
    print(rows, seconds, windows);
  } finally {
    for (const s of servers.reverse()) {
      await s.stop(values["cpu-prof"] ? 60_000 : 5000).catch(() => {}); // writing a profile takes a while
      if (s.name === "modelreg" && values["cpu-prof"]) log(`modelreg CPU profile written to ${values["cpu-prof"]}`);
    }
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((e) => log(`could not drop ${dbName}: ${String(e)}`));
    await admin.end({ timeout: 1 });
  }
}

function print(rows: Row[], seconds: number, windows: number[]): void {
  const perCall = (ms: number, r: Row) => fmt((ms * 1000) / r.summary.calls);
  const body = rows.map((r) => [
    r.case,
    r.server,
    r.protocol,
    String(r.inFlight),
    fmt(r.summary.calls),
    fmt(r.summary.perSecond),
    fmt(r.summary.p50, 2),
    fmt(r.summary.p99, 2),
    fmt(r.errors),
    r.ratio === undefined ? "—" : `${fmt(r.ratio, 2)}×`,
    r.target ?? "",
    r.pass === undefined ? "" : r.pass ? "PASS" : "MISS",
    String(r.connections),
    perCall(r.cpu.server, r),
    perCall(r.cpu.postgres, r),
    perCall(r.cpu.generator, r),
  ]);
  const out = [
    "",
    `bench rpc — ${new Date().toISOString()}, node ${process.version}, ${availableParallelism()} CPUs (load generator, servers and PostgreSQL share them)`,
    `GetVersion: ${WARMUP_MS / 1000} s warm-up + ${seconds} s measured per case, closed loop; ${SEED_VERSIONS} seeded versions picked at random (baseline by uid, modelreg by name).`,
    `CreateVersion: empty version_id (server assigns the next patch); 1 and 64 in flight for ${seconds} s each, one model per case; then ${CREATE_WARMUP_MS / 1000} s warm-up on another model and ${fmt(CREATE_TOTAL)} creates on one model at 16 in flight, windows in completion order.`,
    "Each case uses a new client with one HTTP/2 connection (one Http2SessionManager per transport); \"conns\" counts the TCP connections it opened.",
    "Latency in ms; CPU columns are µs of CPU per call in the server process, the PostgreSQL backends of the bench database, and this (load-generating) process.",
    "",
    table(
      ["case", "server", "proto", ">in flight", ">calls", ">calls/s", ">p50 ms", ">p99 ms", ">errors", ">vs baseline", "target", "result", ">conns", ">srv µs/call", ">pg µs/call", ">gen µs/call"],
      body,
    ),
    "",
    `CreateVersion at 16 in flight, calls/s per ${fmt(WINDOW)} versions of the one model: ${windows.map((w) => fmt(w)).join(" ")}`,
    "Targets are reported, not enforced: the exit code is 0 unless the benchmark itself crashed.",
    "",
  ];
  process.stdout.write(out.join("\n"));
}
