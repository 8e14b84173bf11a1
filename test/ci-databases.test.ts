// A run touches only the databases it named: the suites' throwaway
// databases carry the run's prefix (MODELREG_TEST_DB_PREFIX, set by .ci/run),
// and the cleanup drops those and leaves every other database on the shared
// server alone, another run's included.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createEmptyPostgres, testDatabasePrefix } from "@modelreg/db/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./support/server.js";

const SCRIPT = join(REPO_ROOT, "scripts/drop-run-databases.sh");
const server = process.env.DATABASE_URL;

it("names throwaway databases with the run's prefix, and refuses a prefix that is no identifier", () => {
  expect(testDatabasePrefix({})).toBe("modelreg_test");
  expect(testDatabasePrefix({ MODELREG_TEST_DB_PREFIX: "modelreg_ci_1733_42_abc" })).toBe("modelreg_ci_1733_42_abc");
  expect(() => testDatabasePrefix({ MODELREG_TEST_DB_PREFIX: "x; DROP DATABASE postgres" })).toThrow(/MODELREG_TEST_DB_PREFIX must be/);
  const bad = spawnSync("bash", [SCRIPT, ""], { encoding: "utf8" });
  expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining("give the run's prefix")]);
});

describe.skipIf(!server)(`dropping a run's databases${server ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)"}`, () => {
  const ours = `modelreg_ci_t${randomBytes(4).toString("hex")}`;
  const theirs = `modelreg_ci_t${randomBytes(4).toString("hex")}`;
  let admin: postgres.Sql;
  const exists = async (name: string) => (await admin`select 1 from pg_database where datname = ${name}`).length === 1;
  beforeAll(() => {
    admin = postgres(server!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    // Only what this test named.
    for (const name of [`${ours}_a`, `${ours}_b`, `${theirs}_c`]) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it("creates them under the prefix and drops those alone, even while another run is connected to its own", async () => {
    const saved = process.env.MODELREG_TEST_DB_PREFIX;
    process.env.MODELREG_TEST_DB_PREFIX = ours;
    let made: Awaited<ReturnType<typeof createEmptyPostgres>>;
    try {
      made = await createEmptyPostgres();
    } finally {
      if (saved === undefined) delete process.env.MODELREG_TEST_DB_PREFIX;
      else process.env.MODELREG_TEST_DB_PREFIX = saved;
    }
    const madeName = new URL(made.url).pathname.slice(1);
    expect(madeName.startsWith(`${ours}_`)).toBe(true);
    await admin.unsafe(`CREATE DATABASE ${ours}_a`);
    await admin.unsafe(`CREATE DATABASE ${theirs}_c`);
    // Another run, busy in its database.
    const url = new URL(server!);
    url.pathname = `/${theirs}_c`;
    const other = postgres(url.toString(), { max: 1 });
    await other`select 1`;
    try {
      const pg = new URL(server!);
      const r = spawnSync("bash", [SCRIPT, ours], {
        encoding: "utf8",
        env: { ...process.env, PGHOST: pg.hostname, PGPORT: pg.port || "5432", PGUSER: decodeURIComponent(pg.username) || process.env.USER || "postgres" },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim().split("\n").sort()).toEqual([`dropped ${madeName}`, `dropped ${ours}_a`].sort());
      expect(await exists(madeName)).toBe(false);
      expect(await exists(`${ours}_a`)).toBe(false);
      expect(await exists(`${theirs}_c`)).toBe(true);
      // The other run's connection was not killed.
      expect((await other`select 1 as one`)[0]!.one).toBe(1);
    } finally {
      await other.end();
    }
  });
});
