// The data set of `bench search`: M models created through the API, then N
// versions bulk-loaded with SQL straight into the tables the server uses
// (versions, version_metrics, and the models' counters), as the server's own
// CreateVersion would have left them, then VACUUM (ANALYZE) and CHECKPOINT.
//
// Version i (0-based, in creation order) belongs to model i mod M and is its
// auto-numbered `1.0.<i div M>`, so creation order interleaves the models.
// Labels: dataset "2026-01".."2026-12" (12 values) and team (5 values),
// uniform at random; metrics f1 and accuracy, uniform in [0, 1] rounded to 4
// decimals (so ties, broken by creation order, occur).
import type { RegistryClient } from "@modelreg/sdk";
import type { Sql } from "postgres";
import { closedLoop } from "../lib/load.js";

export const WORKSPACE = "default";
export const MODEL_PREFIX = "search-";
export const DATASETS = Array.from({ length: 12 }, (_, i) => `2026-${String(i + 1).padStart(2, "0")}`);
export const TEAMS = ["risk", "fraud", "search", "vision", "speech"];
const CHUNK = 100_000;

export function modelIds(models: number): string[] {
  const width = String(models - 1).length;
  return Array.from({ length: models }, (_, i) => `${MODEL_PREFIX}${String(i).padStart(width, "0")}`);
}

/** What the database holds of this bench's data (workspace `default`). */
export async function census(sql: Sql): Promise<{ models: number; versions: number; metrics: number; otherVersions: number }> {
  const [r] = await sql<{ models: number; versions: number; metrics: number; other: number }[]>`
    SELECT (SELECT count(*)::int FROM models WHERE workspace = ${WORKSPACE} AND name LIKE ${`${MODEL_PREFIX}%`}) AS models,
           (SELECT count(*)::int FROM versions v JOIN models m ON m.id = v.model_id WHERE m.workspace = ${WORKSPACE} AND m.name LIKE ${`${MODEL_PREFIX}%`}) AS versions,
           (SELECT count(*)::int FROM version_metrics) AS metrics,
           (SELECT count(*)::int FROM versions v JOIN models m ON m.id = v.model_id WHERE NOT (m.workspace = ${WORKSPACE} AND m.name LIKE ${`${MODEL_PREFIX}%`})) AS other`;
  return { models: r!.models, versions: r!.versions, metrics: r!.metrics, otherVersions: r!.other };
}

/** Creates the models through the API (8 in flight); returns their ids in order. */
export async function createModels(api: RegistryClient, models: number): Promise<string[]> {
  const ids = modelIds(models);
  const r = await closedLoop({
    workers: 8,
    maxCalls: ids.length,
    call: (n) =>
      api.models.createModel({ parent: `workspaces/${WORKSPACE}`, modelId: ids[n]!, model: { description: `bench search model ${n}`, labels: { owner: "bench" } } }),
  });
  if (r.errors) throw new Error(`creating models failed (${r.errors} errors): ${String(r.firstError)}`);
  return ids;
}

export interface LoadTimes {
  versionsSeconds: number;
  modelsSeconds: number;
  analyzeSeconds: number;
}

/**
 * VACUUM (ANALYZE) the loaded tables and CHECKPOINT, so neither autovacuum
 * (a bulk insert triggers it) nor the checkpointer writes the load out
 * during the measurements.
 */
export async function settle(sql: Sql): Promise<void> {
  await sql`VACUUM (ANALYZE) models, versions, version_metrics`;
  await sql`CHECKPOINT`;
}

/**
 * Inserts `versions` versions across the bench models (which must exist and
 * have none), with their version_metrics rows, in chunks of 100,000 rows per
 * statement; then sets each model's version_count / latest_version /
 * next_auto_patch as CreateVersion would have, and ANALYZEs.
 */
export async function loadVersions(sql: Sql, versions: number, ids: string[], log: (s: string) => void): Promise<LoadTimes> {
  const rows = await sql<{ id: string; name: string }[]>`SELECT id, name FROM models WHERE workspace = ${WORKSPACE} AND name IN ${sql(ids)}`;
  const byName = new Map(rows.map((r) => [r.name, r.id]));
  const uuids = ids.map((n) => {
    const id = byName.get(n);
    if (!id) throw new Error(`model ${n} is missing`);
    return id;
  });
  const m = uuids.length;
  const t0 = performance.now();
  // Creation times one second apart, ending now, in creation (seq) order.
  const start = (await sql<{ start: Date }[]>`SELECT now() - ${versions} * interval '1 second' AS start`)[0]!.start;
  for (let from = 0; from < versions; from += CHUNK) {
    const to = Math.min(versions, from + CHUNK);
    const c0 = performance.now();
    // The sort key is the one the server's numbered create writes for
    // 1.0.<patch>: next_auto_key_prefix ('A1A0') || chr(64 + digits) || patch || '~'.
    await sql`
      WITH v AS (
        INSERT INTO versions (model_id, workspace, version, sort_key, description, labels, metrics, lifecycle, state, create_time, update_time)
        SELECT (${uuids}::uuid[])[(g.i % ${m}) + 1], ${WORKSPACE},
               '1.0.' || (g.i / ${m})::text,
               'A1A0' || chr(64 + length((g.i / ${m})::text)) || (g.i / ${m})::text || '~',
               'bench search version ' || g.i::text,
               jsonb_build_object('dataset', (${DATASETS}::text[])[1 + floor(random() * ${DATASETS.length})::int],
                                  'team', (${TEAMS}::text[])[1 + floor(random() * ${TEAMS.length})::int]),
               jsonb_build_object('f1', round(random()::numeric, 4), 'accuracy', round(random()::numeric, 4)),
               1, 1, t.ts, t.ts
        FROM generate_series(${from}::bigint, ${to - 1}::bigint) AS g(i),
             LATERAL (SELECT ${start}::timestamptz + g.i * interval '1 second' AS ts) t
        ORDER BY g.i
        RETURNING id, model_id, workspace, metrics, seq
      )
      INSERT INTO version_metrics (version_id, model_id, workspace, name, value, seq)
      SELECT v.id, v.model_id, v.workspace, e.key, e.value::double precision, v.seq FROM v, jsonb_each_text(v.metrics) e`;
    log(`  versions ${from.toLocaleString("en-US")}–${(to - 1).toLocaleString("en-US")}: ${((performance.now() - c0) / 1000).toFixed(1)} s`);
  }
  const t1 = performance.now();
  // Each model has patches 0..n-1: n versions, latest 1.0.<n-1>, next 1.0.<n>.
  await sql`
    UPDATE models m
    SET version_count = c.n, latest_version = '1.0.' || (c.n - 1)::text,
        next_auto_prefix = '1.0.', next_auto_key_prefix = 'A1A0', next_auto_patch = c.n,
        revision = m.revision + 1, update_time = now()
    FROM (SELECT model_id, count(*)::int AS n FROM versions GROUP BY model_id) c
    WHERE m.id = c.model_id AND m.id IN ${sql(uuids)}`;
  const t2 = performance.now();
  await settle(sql);
  const t3 = performance.now();
  return { versionsSeconds: (t1 - t0) / 1000, modelsSeconds: (t2 - t1) / 1000, analyzeSeconds: (t3 - t2) / 1000 };
}
