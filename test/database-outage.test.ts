// A PostgreSQL outage as the server process sees it, through a loopback
// proxy (@modelreg/db/testing, outage-proxy.ts): while the database is gone (connections
// refused) or its host stops answering (connections never answered), calls
// fail fast with Unavailable instead of waiting out a connect timeout or a
// reconnect backoff, many at once as well as one by one; when the database
// is back, the same process recovers by itself. GetVersion's latency is
// recorded in each phase and printed as a table.
import { afterAll, expect, it } from "vitest";
import { Code, createRegistryClient, errorDetails, type RegistryClient } from "@modelreg/sdk";
import { createEmptyPostgres, databaseTarget, startOutageProxy, throughProxy, type OutageMode, type OutageProxy } from "@modelreg/db/testing";
import { startServer, type ServerProcess } from "./support/server.js";
import { eventually } from "./support/until.js";

const run = process.env.DATABASE_URL ? it : it.skip;
let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
let proxy: OutageProxy | undefined;
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop();
  await proxy?.close();
  await db?.drop();
});

/** A generous hang-catcher: far above "about a second", far below the 24-30 s the server took before. */
const FAIL_FAST_MS = 5_000;
/** How long the server may take to serve again once the database is back: a hang-catcher only. */
const RECOVERY_BOUND_MS = 30_000;

interface Outcome {
  ms: number;
  code: Code | "ok";
  reason?: string;
}

async function timed(call: () => Promise<unknown>): Promise<Outcome> {
  const start = performance.now();
  try {
    await call();
    return { ms: performance.now() - start, code: "ok" };
  } catch (err) {
    const e = errorDetails(err);
    return { ms: performance.now() - start, code: e.code, reason: e.reason };
  }
}

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

run(`fails fast with Unavailable while PostgreSQL is gone or silent, then recovers by itself${process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)"}`, async () => {
  db = await createEmptyPostgres();
  proxy = await startOutageProxy(databaseTarget(db.url));
  server = await startServer({ databaseUrl: throughProxy(db.url, proxy.port), env: { DATABASE_POOL_SIZE: "2" } });
  const client: RegistryClient = createRegistryClient({ baseUrl: server.url });
  const parent = (await client.models.createModel({ parent: "workspaces/default", modelId: "outage" })).model!.name;
  const name = (await client.versions.createVersion({ parent })).version!.name;
  const getVersion = () => client.versions.getVersion({ ref: { case: "name", value: name } });

  const table: Record<string, { calls: number; p99_ms: number; max_ms: number }> = {};
  const record = (phase: string, outcomes: Outcome[]) => {
    const ms = outcomes.map((o) => o.ms);
    table[phase] = { calls: outcomes.length, p99_ms: Math.round(p99(ms)), max_ms: Math.round(Math.max(...ms)) };
  };
  const before: Outcome[] = [];
  for (let i = 0; i < 50; i++) before.push(await timed(getVersion));
  expect(before.every((o) => o.code === "ok")).toBe(true);
  record("before", before);

  for (const mode of ["refuse", "blackhole"] as OutageMode[]) {
    await proxy.set(mode);
    // One by one: each call tries the database again, and each fails fast.
    const oneByOne: Outcome[] = [];
    for (let i = 0; i < 10; i++) oneByOne.push(await timed(getVersion));
    // Many at once on a pool of 2: none waits behind the others' connection attempts.
    const together = await Promise.all(Array.from({ length: 16 }, () => timed(getVersion)));
    // A write fails the same way.
    const write = await timed(() => client.versions.createVersion({ parent }));
    record(`${mode}: one by one`, oneByOne);
    record(`${mode}: 16 at once`, together);
    for (const o of [...oneByOne, ...together, write]) {
      expect(o, `${mode}: ${JSON.stringify(o)}\n${JSON.stringify(table, null, 1)}`).toMatchObject({ code: Code.Unavailable, reason: "DATABASE_UNAVAILABLE" });
      expect(o.ms, `${mode}: a call took ${Math.round(o.ms)} ms\n${JSON.stringify(table, null, 1)}`).toBeLessThan(FAIL_FAST_MS);
    }
  }

  // Back: the same process serves again without a restart. Calls go on until
  // one succeeds: the server tries the database again within its backoff
  // (at most 250 ms), and calls in between fail fast, so how many fail
  // depends on how fast they come (a count of 100 once ran out first); only
  // a hang-catcher bounds the wait.
  await proxy.set("forward");
  const recovery: Outcome[] = [];
  const tryOnce = async () => {
    const o = await timed(getVersion);
    recovery.push(o);
    return o;
  };
  await eventually(tryOnce, (o) => o.code === "ok", "a GetVersion that succeeds once the database is back", RECOVERY_BOUND_MS);
  expect(recovery.at(-1), `${recovery.length} calls, the last ${JSON.stringify(recovery.at(-1))}`).toMatchObject({ code: "ok" });
  const after: Outcome[] = [];
  for (let i = 0; i < 50; i++) after.push(await timed(getVersion));
  expect(after.every((o) => o.code === "ok")).toBe(true);
  expect((await client.versions.createVersion({ parent })).version!.version).toBe("1.0.1");
  record("recovery (until the first success)", recovery);
  record("after", after);
  console.log(`GetVersion around a PostgreSQL outage (pool of 2):\n${JSON.stringify(table, null, 1)}`);
});
