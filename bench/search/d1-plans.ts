// What would make the one-model case (d1 of `bench search`) cheaper in
// PostgreSQL itself: on the database a `bench search --database-url URL`
// run left, the server's own d1 statements (recorded from its handlers,
// ./server-sql.ts) for random models are replayed as the bench's raw SQL
// side replays them, beside the same statements with the label compared by
// containment (`labels @> {key: value}`, as across models) instead of row
// by row (`labels ->> key = value`, the server's choice within one model);
// first with the indexes the migrations make, then with a candidate index
// created for the probe and dropped at the end: a GIN index on
// (model_id, labels jsonb_path_ops) (btree_gin), which finds one model's
// versions with a label without reading the model's other versions.
// Prints p50/p99 and PostgreSQL CPU per call, and EXPLAIN (ANALYZE,
// BUFFERS) of each statement for one model. Nothing else of the database
// changes (btree_gin is dropped again if the probe created it).
//
//   node --conditions=@modelreg/source --import tsx bench/search/d1-plans.ts URL [samples]
import { cpuMs } from "../lib/processes.js";
import { fmt, percentile, table } from "../lib/stats.js";
import { type Call, oneModel } from "./cases.js";
import { MODEL_PREFIX, WORKSPACE } from "./load.js";
import { createServerSql, replay, replayClient, type Statement } from "./server-sql.js";

const [url, samplesArg] = process.argv.slice(2);
if (!url) throw new Error("usage: d1-plans.ts DATABASE_URL [samples]");
const samples = Number(samplesArg ?? 200);
const WARMUP = 20;
const INDEX = "bench_d1_versions_model_labels_gin";

const log = (s: string) => process.stderr.write(`${s}\n`);
const sql = replayClient(url, "bench-search-d1-plans");
const recorder = createServerSql(url);
let createdExtension = false;
try {
  const models = await sql<{ name: string }[]>`SELECT name FROM models WHERE workspace = ${WORKSPACE} AND name LIKE ${`${MODEL_PREFIX}%`} ORDER BY random() LIMIT ${samples + WARMUP}`;
  if (models.length === 0) throw new Error("no bench models here: run `bench search --database-url URL` first");
  const pick = (i: number) => models[i % models.length]!.name;
  log(`recording the server's d1 statements for ${models.length} models…`);
  const server: Statement[][] = [];
  for (let i = 0; i < samples + WARMUP; i++) {
    const call: Call = { modelreg: "", raw: undefined, model: pick(i) };
    server.push(await recorder.record(oneModel, call));
  }
  await recorder.close();
  // The label by containment: the GIN indexes answer `@>`, not `->>`.
  const labelsRowByRow = /\(\("versions"\."labels" ->> (\$\d+)::text\) = (\$\d+)\)/;
  if (!server[0]!.some((s) => labelsRowByRow.test(s.text))) throw new Error("the server's d1 statement no longer compares labels with ->>: update this probe");
  const containment = server.map((stmts) =>
    stmts.map((s) => ({ ...s, text: s.text.replace(labelsRowByRow, (_m, k: string, v: string) => `("versions"."labels" @> jsonb_build_object(${k}::text, ${v}::text))`) })),
  );
  const [pgPid] = (await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`).map((r) => r.pid);

  const measure = async (variant: Statement[][]) => {
    for (let i = 0; i < WARMUP; i++) await replay(sql, variant[samples + i]!);
    const pg0 = cpuMs(pgPid!);
    const ms: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await replay(sql, variant[i]!);
      ms.push(performance.now() - t0);
    }
    const pg = (cpuMs(pgPid!) - pg0) / samples;
    const s = Float64Array.from(ms).sort();
    return { p50: percentile(s, 50), p99: percentile(s, 99), pg };
  };
  const explain = async (stmts: Statement[]) => {
    const out: string[] = [];
    for (const s of stmts) {
      const rows = await sql.unsafe(`EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, s.params as never[]);
      out.push(...rows.map((r) => String(Object.values(r)[0])), "");
    }
    return out;
  };
  const same = async (a: Statement[], b: Statement[]) => JSON.stringify((await replay(sql, a)).at(-1)) === JSON.stringify((await replay(sql, b)).at(-1));

  const rows: string[][] = [];
  const plans: string[] = [];
  const run = async (indexes: string) => {
    for (const [name, variant] of [
      ["server's (labels ->> key = value)", server],
      ["containment (labels @> {key: value})", containment],
    ] as const) {
      log(`  ${indexes}, ${name}…`);
      const m = await measure(variant);
      rows.push([indexes, name, fmt(m.p50, 2), fmt(m.p99, 2), fmt(m.pg * 1000)]);
      plans.push(`== ${indexes}; ${name}; model ${pick(0)} (the first sample's; its pages may have left shared_buffers since):`, ...(await explain(variant[0]!)));
    }
  };
  if (!(await same(server[0]!, containment[0]!))) throw new Error("the containment variant answers differently");
  await run("indexes of the migrations");
  const [ext] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'btree_gin'`;
  if (ext!.n === 0) {
    await sql`CREATE EXTENSION btree_gin`;
    createdExtension = true;
  }
  log(`creating ${INDEX}…`);
  const t0 = performance.now();
  await sql.unsafe(`CREATE INDEX ${INDEX} ON versions USING gin (model_id, labels jsonb_path_ops)`);
  const built = (performance.now() - t0) / 1000;
  await sql`ANALYZE versions`;
  const [size] = await sql<{ s: string }[]>`SELECT pg_size_pretty(pg_relation_size(${INDEX})) AS s`;
  await run(`+ GIN (model_id, labels jsonb_path_ops)`);
  process.stdout.write(
    [
      `d1 plans — ${new Date().toISOString()}: the server's d1 statements for ${samples} random models (after ${WARMUP} warm-ups), replayed through postgres.js on one connection, prepared as the server prepares them; ${INDEX} built in ${fmt(built, 1)} s, ${size!.s}.`,
      "",
      table(["indexes", "statement", ">p50 ms", ">p99 ms", ">pg µs/call"], rows),
      "",
      ...plans,
    ].join("\n"),
  );
} finally {
  await sql.unsafe(`DROP INDEX IF EXISTS ${INDEX}`).catch((e) => log(`could not drop ${INDEX}: ${String(e)}`));
  if (createdExtension) await sql`DROP EXTENSION IF EXISTS btree_gin`.catch((e) => log(`could not drop btree_gin: ${String(e)}`));
  await recorder.close().catch(() => {});
  await sql.end({ timeout: 1 });
}
