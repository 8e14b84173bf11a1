// `npm run bench -- search [--versions N] [--models M] [--samples K] [--database-url URL] [--explain] [--pg-log FILE]`
//
// Search at scale: N versions (default 1,000,000) across M models (default
// 1,000) in PostgreSQL, read through the real server (apps/server/dist/main.mjs, the bundle npm start runs,
// its own process; the SDK over Connect, HTTP/2, one call in flight) beside
// hand-written SQL through postgres.js on the same database (the baseline),
// case by case (the baseline's samples first, then modelreg's). Cases:
//   a) GetVersion by name (a random version); baseline: primary-key lookup joined to models;
//   b) ListVersions across models, page_size 100, filter labels.dataset = "2026-10"
//      (newest first): page 1 and page 50; baseline: labels @> ... ordered by seq desc, keyset;
//   c) the same without filter, order_by metrics.f1 desc: page 1 and page 50;
//      baseline: keyset on the version_metrics index;
//   d) one (random) model, the filter and the metric ordering, page 1.
// Page 50 is reached once per case by walking pages 1-49 with their tokens
// (keysets for the baseline); then page 50 is fetched K times with its token.
// Targets (reported, not enforced): each modelreg p99 < 20 ms; page 50 p50
// <= 1.5x page 1 p50 (keyset pages, not offsets).
//
// Data: the models are created through the API; the versions and their
// metric rows are bulk-loaded with SQL (./load.ts) into the server's tables,
// then checked through the API. Without --database-url a database
// modelreg_bench_<time> is created on postgres://postgres@127.0.0.1:5432
// (or user root) and dropped at the end; with it (loopback only), the data
// is loaded there and kept, and a later run with the same --versions and
// --models reuses it. When a target is missed (or with --explain), a second
// server process whose connections load auto_explain runs the missed cases
// again and its plans (EXPLAIN ANALYZE, BUFFERS) are read from the
// PostgreSQL log and printed beside the baseline's.
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import type { RegistryClient } from "@modelreg/sdk";
import postgres, { type Sql } from "postgres";
import { cpuMs, onInterrupt, type ServerProcess } from "../lib/processes.js";
import { fmt, percentile, table } from "../lib/stats.js";
import { byMetric, type Call, type CaseKind, FAR_PAGE, FILTER, filtered, getVersion, ORDER_BY, oneModel, PAGE_SIZE } from "./cases.js";
import { findServerLog, plansIn, withAutoExplain } from "./explain.js";
import { census, createModels, loadVersions, modelIds, settle, WORKSPACE } from "./load.js";
import { sdkClient, startModelreg as startModelregServer } from "./modelreg.js";

const BENCH_TOKEN = `bench-admin.${randomBytes(32).toString("base64url")}`;
const TARGET_P99_MS = 20;
const TARGET_PAGE_RATIO = 1.5;
const WARMUP_CALLS = 20;
/** Calls of a case before the one whose plans are printed (prepared statements settle on a plan after 5). */
const EXPLAIN_REPEATS = 7;
const MIN_VERSIONS = 70_000;
const LOOPBACK = ["127.0.0.1", "localhost", "[::1]"];

const log = (s: string) => process.stderr.write(`${s}\n`);
const now = () => Number(process.hrtime.bigint()) / 1e6;

interface Measured {
  id: string;
  label: string;
  kind: CaseKind;
  /** The call of each sample (index = sample). */
  calls: (i: number) => Call;
  modelreg: number[];
  raw: number[];
  /** Rows per call (modelreg, the first sample). */
  rows: number;
  /** Did both sides return the same names on the first sample? */
  same: boolean;
  /** CPU ms during the samples: modelreg's process, its PostgreSQL backends, the baseline's backend, this process during modelreg calls (the SDK). */
  cpu: { server: number; pgModelreg: number; pgRaw: number; client: number };
  /** Pages 2..49 of the one walk, when the case is a far page. */
  walk?: { modelreg: number[]; raw: number[] };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      versions: { type: "string", default: "1000000" },
      models: { type: "string", default: "1000" },
      samples: { type: "string", default: "200" },
      "database-url": { type: "string" },
      explain: { type: "boolean", default: false },
      "pg-log": { type: "string" },
    },
  });
  const versions = Number(values.versions);
  const models = Number(values.models);
  const samples = Number(values.samples);
  if (!(Number.isInteger(models) && models >= 1 && models <= 100_000)) throw new Error(`--models ${values.models}: expected an integer from 1 to 100,000`);
  // Page 50 of the filter (1 version in 12 matches) needs about 60,000 versions.
  const minVersions = Math.max(models, MIN_VERSIONS);
  if (!(Number.isInteger(versions) && versions >= minVersions && versions <= 100_000_000))
    throw new Error(`--versions ${values.versions}: expected an integer from ${fmt(minVersions)} (page ${FAR_PAGE} of the filter needs that many) to 100,000,000`);
  if (!(Number.isInteger(samples) && samples >= 1 && samples <= 100_000)) throw new Error(`--samples ${values.samples}: expected an integer from 1 to 100,000`);

  // The database: given (kept), or a fresh one (dropped at the end).
  let dbUrl: string;
  let dbName: string;
  let admin: Sql | undefined;
  if (values["database-url"]) {
    dbUrl = values["database-url"];
    const u = new URL(dbUrl);
    if (!LOOPBACK.includes(u.hostname)) throw new Error("--database-url must point at a loopback address");
    dbName = decodeURIComponent(u.pathname.slice(1)) || u.username || "postgres";
  } else {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
    dbName = `modelreg_bench_${stamp}`;
    let lastError: unknown;
    for (const user of ["postgres", "root"]) {
      const url = `postgres://${user}@127.0.0.1:5432/postgres`;
      const a = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await a`SELECT 1`;
        admin = a;
        const u = new URL(url);
        u.pathname = `/${dbName}`;
        dbUrl = u.toString();
        break;
      } catch (e) {
        lastError = e;
        await a.end({ timeout: 1 });
      }
    }
    if (!admin) throw new Error(`cannot reach PostgreSQL on 127.0.0.1:5432 as postgres or root (pass --database-url): ${String(lastError)}`);
    await admin.unsafe(`CREATE DATABASE ${dbName}`);
    const a = admin;
    onInterrupt(() => a.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  }
  dbUrl = dbUrl!;

  const servers: ServerProcess[] = [];
  const clients: { close(): void }[] = [];
  // The bench's own connections: `meta` (loading, checks, pg_stat_activity)
  // and `raw` (the baseline's statements, one connection).
  const meta = postgres(dbUrl, { max: 1, onnotice: () => {}, connection: { application_name: "bench-search-meta" } });
  const raw = postgres(dbUrl, { max: 1, onnotice: () => {}, connection: { application_name: "bench-search-raw" } });
  const startModelreg = (name: string, url: string) => startModelregServer({ name, dbUrl: url, adminKey: BENCH_TOKEN });
  // One HTTP/2 connection per server, closed at the end.
  const sdk = (server: ServerProcess): RegistryClient => {
    const client = sdkClient(server, BENCH_TOKEN);
    clients.push(client);
    return client.api;
  };

  try {
    log(`bench search: database ${dbName}; starting modelreg (migrations)…`);
    const modelreg = await startModelreg("modelreg", dbUrl);
    servers.push(modelreg);
    const api = sdk(modelreg);

    // Load, or reuse what an earlier run with the same size left.
    const had = await census(meta);
    let loadNote: string;
    if (had.models === 0 && had.versions === 0 && had.otherVersions === 0) {
      const t0 = now();
      log(`creating ${fmt(models)} models through the API…`);
      const ids = await createModels(api, models);
      const modelsS = (now() - t0) / 1000;
      log(`loading ${fmt(versions)} versions with SQL…`);
      const t = await loadVersions(meta, versions, ids, log);
      loadNote = `loaded in ${fmt(modelsS + t.versionsSeconds + t.modelsSeconds + t.analyzeSeconds, 1)} s: ${fmt(models)} CreateModel calls ${fmt(modelsS, 1)} s, versions + version_metrics ${fmt(t.versionsSeconds, 1)} s, model counters ${fmt(t.modelsSeconds, 1)} s, VACUUM (ANALYZE) + CHECKPOINT ${fmt(t.analyzeSeconds, 1)} s`;
      log(loadNote);
    } else if (had.models === models && had.versions === versions && had.otherVersions === 0) {
      loadNote = `reused the data of an earlier run in ${dbName}`;
      log(`${loadNote}; VACUUM (ANALYZE), CHECKPOINT…`);
      await settle(meta);
    } else {
      throw new Error(
        `${dbName} holds other data (${had.models} bench models, ${had.versions} of their versions, ${had.otherVersions} other versions): use an empty database, or the same --versions and --models as the run that loaded it`,
      );
    }
    const [size] = await meta<{ db: string; versions: string; metrics: string }[]>`
      SELECT pg_size_pretty(pg_database_size(current_database())) AS db,
             pg_size_pretty(pg_total_relation_size('versions')) AS versions,
             pg_size_pretty(pg_total_relation_size('version_metrics')) AS metrics`;

    await verify(api, meta, versions, models);
    log("the API agrees with the loaded data; measuring…");

    // The random picks, the same for both sides.
    const picks = await meta<{ id: string; model_name: string; version: string }[]>`
      SELECT v.id, m.name AS model_name, v.version FROM versions v JOIN models m ON m.id = v.model_id ORDER BY random() LIMIT ${samples + WARMUP_CALLS}`;
    const modelRows = await meta<{ id: string; name: string }[]>`SELECT id, name FROM models WHERE workspace = ${WORKSPACE} AND name IN ${meta(modelIds(models))}`;
    const modelPicks = Array.from({ length: samples + WARMUP_CALLS }, () => modelRows[Math.floor(Math.random() * modelRows.length)]!);
    const pick = (i: number) => picks[i % picks.length]!;

    const modelregPids = async () =>
      (await meta<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'modelreg'`).map((r) => r.pid);
    const rawPid = (await raw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0]!.pid;

    const measure = async (id: string, label: string, kind: CaseKind, calls: (i: number) => Call, walk?: Measured["walk"]): Promise<Measured> => {
      log(`  ${id}) ${label}…`);
      const m: Measured = { id, label, kind, calls, modelreg: [], raw: [], rows: 0, same: false, cpu: { server: 0, pgModelreg: 0, pgRaw: 0, client: 0 }, walk };
      // Both sides answer the first call alike?
      const [mine, theirs] = [await kind.modelreg(api, calls(0)), await kind.raw(raw, calls(0))];
      m.rows = mine.names.length;
      m.same = JSON.stringify(mine.names) === JSON.stringify(theirs.names);
      if (!m.same) log(`    modelreg and the baseline answered differently: ${mine.names.length} vs ${theirs.names.length} names, first ${mine.names[0]} vs ${theirs.names[0]}`);
      // The baseline's samples, then modelreg's, each after its own warm-up:
      // one side's scans do not evict the pages the other's next call reads.
      for (let i = 0; i < WARMUP_CALLS; i++) await kind.raw(raw, calls(samples + i));
      const raw0 = cpuMs(rawPid);
      for (let i = 0; i < samples; i++) {
        const t0 = now();
        await kind.raw(raw, calls(i));
        m.raw.push(now() - t0);
      }
      m.cpu.pgRaw = cpuMs(rawPid) - raw0;
      for (let i = 0; i < WARMUP_CALLS; i++) await kind.modelreg(api, calls(samples + i));
      const pg0 = new Map((await modelregPids()).map((p) => [p, cpuMs(p)]));
      const srv0 = cpuMs(modelreg.pid);
      for (let i = 0; i < samples; i++) {
        const u0 = process.cpuUsage();
        const t0 = now();
        await kind.modelreg(api, calls(i));
        m.modelreg.push(now() - t0);
        const u = process.cpuUsage(u0);
        m.cpu.client += (u.user + u.system) / 1000;
      }
      m.cpu.server = cpuMs(modelreg.pid) - srv0;
      for (const [p, ms] of pg0) m.cpu.pgModelreg += cpuMs(p) - ms;
      return m;
    };

    /** Walks pages 1..FAR_PAGE-1 once on both sides; the call that fetches page FAR_PAGE, and the walk's latencies of pages 2..FAR_PAGE-1. */
    const walkTo = async (kind: CaseKind): Promise<{ call: Call; walk: NonNullable<Measured["walk"]> }> => {
      const walk = { modelreg: [] as number[], raw: [] as number[] };
      let call: Call = { modelreg: "", raw: undefined };
      for (let page = 1; page < FAR_PAGE; page++) {
        let t0 = now();
        const a = await kind.modelreg(api, call);
        const tm = now() - t0;
        t0 = now();
        const b = await kind.raw(raw, call);
        const tr = now() - t0;
        if (page > 1) {
          walk.modelreg.push(tm);
          walk.raw.push(tr);
        }
        if (!a.nextModelreg || !b.nextRaw) throw new Error(`the list ended at page ${page}, before page ${FAR_PAGE}: load more versions`);
        call = { modelreg: a.nextModelreg, raw: b.nextRaw };
      }
      return { call, walk };
    };

    const results: Measured[] = [];
    results.push(
      await measure("a", "GetVersion by name", getVersion, (i) => ({ modelreg: `workspaces/${WORKSPACE}/models/${pick(i).model_name}/versions/${pick(i).version}`, raw: { uid: pick(i).id } })),
    );
    const first: Call = { modelreg: "", raw: undefined };
    results.push(await measure("b1", `across models, ${FILTER}, page 1`, filtered, () => first));
    const bFar = await walkTo(filtered);
    results.push(await measure(`b${FAR_PAGE}`, `across models, ${FILTER}, page ${FAR_PAGE}`, filtered, () => bFar.call, bFar.walk));
    results.push(await measure("c1", `across models, order_by ${ORDER_BY}, page 1`, byMetric, () => first));
    const cFar = await walkTo(byMetric);
    results.push(await measure(`c${FAR_PAGE}`, `across models, order_by ${ORDER_BY}, page ${FAR_PAGE}`, byMetric, () => cFar.call, cFar.walk));
    results.push(await measure("d1", `one model, ${FILTER}, order_by ${ORDER_BY}, page 1`, oneModel, (i) => ({ modelreg: "", raw: undefined, model: modelPicks[i]!.name, modelUid: modelPicks[i]!.id })));

    const misses = print(results, { versions, models, samples, dbName, loadNote, size: size! });

    if (misses.length > 0 || values.explain) {
      const which = values.explain ? results : results.filter((r) => misses.includes(r.id));
      await modelreg.stop();
      servers.splice(servers.indexOf(modelreg), 1);
      await explainCases(which, { dbUrl, dbName, meta, raw, startModelreg, sdk, servers, pgLog: values["pg-log"] });
    }
  } finally {
    for (const c of clients) c.close();
    for (const s of servers.reverse()) await s.stop().catch(() => {});
    await meta.end({ timeout: 1 });
    await raw.end({ timeout: 1 });
    if (admin) {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((e) => log(`could not drop ${dbName}: ${String(e)}`));
      await admin.end({ timeout: 1 });
    }
  }
}

/** Checks the loaded data through the API before anything is measured. */
async function verify(api: RegistryClient, sql: Sql, versions: number, models: number): Promise<void> {
  const fail = (what: string) => {
    throw new Error(`the API does not agree with the loaded data: ${what}`);
  };
  // A sampled version, field by field.
  const [s] = await sql<{ model_name: string; version: string; labels: Record<string, string>; metrics: Record<string, number>; id: string }[]>`
    SELECT v.id, m.name AS model_name, v.version, v.labels, v.metrics FROM versions v JOIN models m ON m.id = v.model_id
    WHERE v.seq = (SELECT min(seq) + floor(random() * (max(seq) - min(seq)))::bigint FROM versions)`;
  if (!s) fail("no version at a sampled seq");
  const name = `workspaces/${WORKSPACE}/models/${s!.model_name}/versions/${s!.version}`;
  const { version: got } = await api.versions.getVersion({ ref: { case: "name", value: name } });
  if (!got || got.uid !== s!.id || got.name !== name) fail(`GetVersion ${name} answered ${got?.name} (${got?.uid}), expected uid ${s!.id}`);
  if (JSON.stringify(sortKeys(got!.labels)) !== JSON.stringify(sortKeys(s!.labels))) fail(`labels of ${name}: ${JSON.stringify(got!.labels)} vs ${JSON.stringify(s!.labels)}`);
  if (JSON.stringify(sortKeys(got!.metrics)) !== JSON.stringify(sortKeys(s!.metrics))) fail(`metrics of ${name}: ${JSON.stringify(got!.metrics)} vs ${JSON.stringify(s!.metrics)}`);

  // One model: every version listed, in version order, matching its counters.
  const model = `workspaces/${WORKSPACE}/models/${s!.model_name}`;
  const expected = Math.floor(versions / models) + (modelIds(models).indexOf(s!.model_name) < versions % models ? 1 : 0);
  const { model: m } = await api.models.getModel({ name: model });
  if (Number(m!.versionCount) !== expected || m!.latestVersion !== `1.0.${expected - 1}`)
    fail(`GetModel ${model}: version_count ${m!.versionCount}, latest ${m!.latestVersion}; expected ${expected}, 1.0.${expected - 1}`);
  let listed = 0;
  let token = "";
  let top = "";
  do {
    const res = await api.versions.listVersions({ parent: model, pageSize: 1000, pageToken: token });
    if (listed === 0) top = res.versions[0]?.version ?? "";
    listed += res.versions.length;
    token = res.nextPageToken;
  } while (token);
  if (listed !== expected || top !== `1.0.${expected - 1}`) fail(`ListVersions ${model}: ${listed} versions, highest ${top}; expected ${expected}, 1.0.${expected - 1}`);

  // Auto-numbering continues where the load stopped (then the new version goes again).
  const next = (await sql<{ next: string }[]>`SELECT next_auto_patch::text AS next FROM models WHERE workspace = ${WORKSPACE} AND name = ${s!.model_name}`)[0]!.next;
  const { version: created } = await api.versions.createVersion({ parent: model });
  await api.versions.deleteVersion({ name: created!.name });
  if (created!.version !== `1.0.${next}`) fail(`CreateVersion on ${model} made ${created!.version}, expected 1.0.${next}`);
}

const sortKeys = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

function stats(ms: number[]): { p50: number; p99: number; max: number } {
  const s = Float64Array.from(ms).sort();
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/** Prints the table; returns the ids of the cases whose target was missed. */
function print(
  results: Measured[],
  info: { versions: number; models: number; samples: number; dbName: string; loadNote: string; size: { db: string; versions: string; metrics: string } },
): string[] {
  const rows: string[][] = [];
  const misses = new Set<string>();
  const byId = new Map(results.map((r) => [r.id, r]));
  const perCall = (ms: number, n: number) => fmt((ms * 1000) / n);
  for (const r of results) {
    const m = stats(r.modelreg);
    const b = stats(r.raw);
    const pass = m.p99 < TARGET_P99_MS;
    if (!pass) misses.add(r.id);
    rows.push([
      `${r.id}) ${r.label}`,
      "modelreg",
      fmt(r.modelreg.length),
      fmt(r.rows),
      fmt(m.p50, 2),
      fmt(m.p99, 2),
      fmt(m.max, 2),
      `${fmt(m.p50 / b.p50, 1)}×`,
      `p99 < ${TARGET_P99_MS} ms`,
      pass ? "PASS" : "MISS",
      perCall(r.cpu.client, r.modelreg.length),
      perCall(r.cpu.server, r.modelreg.length),
      perCall(r.cpu.pgModelreg, r.modelreg.length),
    ]);
    rows.push(["", "raw SQL", fmt(r.raw.length), r.same ? "same" : "DIFFERENT", fmt(b.p50, 2), fmt(b.p99, 2), fmt(b.max, 2), "1.0×", "", "", "", "", perCall(r.cpu.pgRaw, r.raw.length)]);
    if (r.walk) {
      const wm = stats(r.walk.modelreg);
      const wb = stats(r.walk.raw);
      rows.push([`   (pages 2–${FAR_PAGE - 1}, walked once)`, "modelreg", fmt(r.walk.modelreg.length), "", fmt(wm.p50, 2), fmt(wm.p99, 2), fmt(wm.max, 2), `${fmt(wm.p50 / wb.p50, 1)}×`, "", "", "", "", ""]);
      rows.push(["", "raw SQL", fmt(r.walk.raw.length), "", fmt(wb.p50, 2), fmt(wb.p99, 2), fmt(wb.max, 2), "1.0×", "", "", "", "", ""]);
    }
  }
  const ratios: string[][] = [];
  for (const c of ["b", "c"]) {
    const p1 = byId.get(`${c}1`);
    const pf = byId.get(`${c}${FAR_PAGE}`);
    if (!p1 || !pf) continue;
    const [s1, sf] = [stats(p1.modelreg), stats(pf.modelreg)];
    const [r1, rf] = [stats(p1.raw), stats(pf.raw)];
    const ratio = sf.p50 / s1.p50;
    const pass = ratio <= TARGET_PAGE_RATIO;
    if (!pass) {
      misses.add(p1.id);
      misses.add(pf.id);
    }
    ratios.push([`${c}) page ${FAR_PAGE} / page 1`, `${fmt(ratio, 2)}×`, `${fmt(sf.p99 / s1.p99, 2)}×`, `${fmt(rf.p50 / r1.p50, 2)}×`, `≤ ${TARGET_PAGE_RATIO}× (p50)`, pass ? "PASS" : "MISS"]);
  }
  const out = [
    "",
    `bench search — ${new Date().toISOString()}, node ${process.version}, ${availableParallelism()} CPUs (this process, the server and PostgreSQL share them)`,
    `Data: ${fmt(info.versions)} versions across ${fmt(info.models)} models in workspace "${WORKSPACE}" (database ${info.dbName}: ${info.size.db}; versions ${info.size.versions}, version_metrics ${info.size.metrics} with indexes); ${info.loadNote}.`,
    `Each case: raw SQL (postgres.js, one connection), then modelreg (SDK, Connect over HTTP/2), each ${WARMUP_CALLS} warm-up calls then ${fmt(info.samples)} samples, one call in flight.`,
    `Pages hold ${PAGE_SIZE}; page ${FAR_PAGE} is fetched with the token (keyset) from one walk of pages 1–${FAR_PAGE - 1}. "rows": per modelreg call; beside raw SQL, whether its first answer named the same versions in the same order.`,
    "Latency in ms (client side, end to end). CPU, µs per call: sdk = this process during modelreg calls (the SDK decoding), srv = the modelreg process, pg = PostgreSQL (modelreg's backends, or the baseline's one).",
    "",
    table(["case", "side", ">calls", ">rows", ">p50 ms", ">p99 ms", ">max ms", ">p50 vs raw", "target", "result", ">sdk µs/call", ">srv µs/call", ">pg µs/call"], rows),
    "",
    table(["keyset pages", ">modelreg p50", ">modelreg p99", ">raw SQL p50", "target", "result"], ratios),
    "",
    "Targets are reported, not enforced: the exit code is 0 unless the benchmark itself crashed.",
    "",
  ];
  process.stdout.write(out.join("\n"));
  return [...misses];
}

/** Runs the given cases on a server that logs its plans, and prints them beside the baseline's. */
async function explainCases(
  cases: Measured[],
  ctx: {
    dbUrl: string;
    dbName: string;
    meta: Sql;
    raw: Sql;
    startModelreg: (name: string, url: string) => Promise<ServerProcess>;
    sdk: (s: ServerProcess) => RegistryClient;
    servers: ServerProcess[];
    pgLog: string | undefined;
  },
): Promise<void> {
  const out: string[] = ["", `Plans (PostgreSQL's EXPLAIN ANALYZE, BUFFERS) of ${cases.map((c) => c.id).join(", ")}:`];
  const serverLog = await findServerLog(ctx.meta, ctx.pgLog);
  if ("error" in serverLog) out.push(`  modelreg's plans: not captured: ${serverLog.error}`);
  let api: RegistryClient | undefined;
  if (!("error" in serverLog)) {
    log(`capturing modelreg's plans with auto_explain (server log ${serverLog.path})…`);
    const server = await ctx.startModelreg("modelreg-explain", withAutoExplain(ctx.dbUrl));
    ctx.servers.push(server);
    api = ctx.sdk(server);
  }
  for (const c of cases) {
    const call = c.calls(0);
    out.push("", `== ${c.id}) ${c.label}`);
    if (api && !("error" in serverLog)) {
      for (let i = 0; i < EXPLAIN_REPEATS - 1; i++) await c.kind.modelreg(api, call);
      const offset = await serverLog.size();
      const t0 = now();
      await c.kind.modelreg(api, call);
      const ms = now() - t0;
      // The log is written by the backend as the statement ends; give it a moment.
      await new Promise((r) => setTimeout(r, 200));
      const plans = plansIn(await serverLog.readFrom(offset), ctx.dbName);
      out.push(`-- modelreg: ${plans.length} statement(s) in a call that took ${fmt(ms, 2)} ms with auto_explain on (call ${EXPLAIN_REPEATS} of ${EXPLAIN_REPEATS}):`);
      for (const p of plans) out.push(p, "");
    }
    const lines = (await c.kind.raw(ctx.raw, call, true)).names;
    out.push("-- raw SQL:", ...lines);
  }
  out.push("");
  process.stdout.write(out.join("\n"));
}
