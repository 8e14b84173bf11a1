// List pages of versions: keyset paginators by version (semver order), by
// creation or update time, and by a metric (from the metric index), over
// one model or a whole workspace, with the filterable fields of
// ListVersions compiled to conditions.
import { type Database, models, versionMetrics, versions } from "@modelreg/db";
import { FrameworkSchema, LifecycleSchema, VersionStateSchema } from "@modelreg/proto";
import { and, asc, desc, eq, type SQL, sql } from "drizzle-orm";
import { enumCodes } from "../shared/enum-codes.js";
import type { FilterFields } from "../shared/filter/index.js";
import { rowsOf } from "../shared/raw-rows.js";
import type { ListRow } from "./mapping.js";

/** The filterable fields of ListVersions (stated on ListVersionsRequest.filter). */
export const FILTER_FIELDS: FilterFields = {
  version: { kind: "string", column: versions.version },
  model: { kind: "string", column: models.name },
  runtime: { kind: "string", column: versions.runtime },
  algorithm: { kind: "string", column: versions.algorithm },
  data_version: { kind: "string", column: versions.dataVersion },
  training_algorithm_code: { kind: "string", column: versions.trainingAlgorithmCode },
  training_algorithm_version: { kind: "string", column: versions.trainingAlgorithmVersion },
  source_job_id: { kind: "string", column: versions.sourceJobId },
  source_task: { kind: "string", column: versions.sourceTask },
  framework: { kind: "enumCode", column: versions.framework, codes: enumCodes(FrameworkSchema) },
  state: { kind: "enumCode", column: versions.state, codes: enumCodes(VersionStateSchema) },
  lifecycle: { kind: "enumCode", column: versions.lifecycle, codes: enumCodes(LifecycleSchema) },
  labels: { kind: "map", column: versions.labels, valueKind: "string" },
  metrics: { kind: "map", column: versions.metrics, valueKind: "number" },
  file_count: { kind: "number", column: versions.fileCount },
  total_size_bytes: { kind: "number", column: versions.totalSize },
  create_time: { kind: "timestamp", column: versions.createTime },
  update_time: { kind: "timestamp", column: versions.updateTime },
};

/** Within one model: labels compared row by row (see FilterField "map"). */
export const MODEL_FILTER_FIELDS: FilterFields = { ...FILTER_FIELDS, labels: { kind: "map", column: versions.labels, valueKind: "string", containment: false } };

/**
 * The columns a list page reads, in one raw chunk (building ~35 column
 * references per call cost more than the statement), named as ListRow.
 * Aliases: one subquery per row, NULL when there are none (aliases hold no
 * comma).
 */
const LIST_COLUMNS = sql.raw(
  `"versions".*, "models"."name" AS model_name, (SELECT string_agg(a.alias, ',' ORDER BY a.alias) FROM model_aliases a WHERE a.version_id = "versions"."id") AS aliases`,
);

/** Up to this many versions, a model's metric-ordered pages count its metric rows up front (see pageByMetric). */
const SMALL_MODEL = 10_000;

type Cond = SQL | undefined;

/** One page's rows (up to limit + 1, the extra one says there is a next page) and the keyset key of each: [phase, value, seq]. */
export interface RawPage {
  rows: ListRow[];
  keys: string[][];
}

const versionsJoined = sql`${versions} INNER JOIN ${models} ON ${versions.modelId} = ${models.id}`;

/** One page statement: LIST_COLUMNS (plus `extra`) of versions joined to models, raw rows mapped once. */
async function listRows(db: Database, from: SQL, where: Cond, orderBy: SQL[], limit: number, extra?: SQL): Promise<ListRow[]> {
  const result = await db.execute(
    sql`SELECT ${LIST_COLUMNS}${extra ? sql`, ${extra}` : sql``} FROM ${from} WHERE ${where ?? sql`true`} ORDER BY ${sql.join(orderBy, sql`, `)} LIMIT ${limit + 1}`,
  );
  return rowsOf<ListRow>(result);
}

/** The model a list within one model reads, in the caller's scope. */
export async function selectListModel(db: Database, where: SQL): Promise<{ id: string; versionCount: number } | undefined> {
  const [m] = await db.select({ id: models.id, versionCount: models.versionCount }).from(models).where(where);
  return m;
}

export async function pageBySemver(db: Database, base: Cond, descending: boolean, after: string[] | undefined, limit: number): Promise<RawPage> {
  const dir = descending ? desc : asc;
  const cmp = descending ? sql`<` : sql`>`;
  const rows = await listRows(
    db,
    versionsJoined,
    and(base, after ? sql`(${versions.sortKey}, ${versions.seq}) ${cmp} (${after[1]}, ${Number(after[2])})` : undefined),
    [dir(versions.sortKey), dir(versions.seq)],
    limit,
  );
  return { rows, keys: rows.map((r) => ["", r.sort_key, String(r.seq)]) };
}

export async function pageBySeq(db: Database, base: Cond, descending: boolean, after: string[] | undefined, limit: number, column: "seq" | "update_time"): Promise<RawPage> {
  const dir = descending ? desc : asc;
  const cmp = descending ? sql`<` : sql`>`;
  // update_time in whole microseconds, as PostgreSQL keeps it (a JS Date would drop them).
  const micros = sql<string>`(extract(epoch from ${versions.updateTime}) * 1000000)::bigint`;
  const keyset =
    column === "seq"
      ? after && sql`${versions.seq} ${cmp} ${Number(after[2])}`
      : after && sql`(${micros}, ${versions.seq}) ${cmp} (${after[1]}::bigint, ${Number(after[2])})`;
  const rows = await listRows(
    db,
    versionsJoined,
    and(base, keyset),
    column === "seq" ? [dir(versions.seq)] : [dir(micros), dir(versions.seq)],
    limit,
    column === "seq" ? undefined : sql`${micros}::text AS micros`,
  );
  return { rows, keys: rows.map((r) => ["", column === "seq" ? "" : r.micros!, String(r.seq)]) };
}

/** Where a metric-ordered page looks. */
export interface MetricQuery {
  base: Cond;
  /** The condition on the metric index: one model or the workspace. */
  scopeCond: SQL;
  /** The model, when the list is within one. */
  model: { id: string; versionCount: number } | undefined;
  metric: string;
  descending: boolean;
}

/**
 * Ordered by a metric: versions that have it, from the metric index, then
 * (versions without it come last) the others by creation order. The
 * keyset says which phase: ["m", value, seq] or ["n", "", seq].
 */
export async function pageByMetric(db: Database, q: MetricQuery, after: string[] | undefined, limit: number): Promise<RawPage> {
  const { base, model, metric } = q;
  const dir = q.descending ? desc : asc;
  const cmp = q.descending ? sql`<` : sql`>`;
  // Within one model: does any of its versions lack the metric at all?
  // Two index counts, evaluated once per statement; usually none does, and
  // then the second phase need not read the model's versions again.
  const lacking =
    model &&
    sql`(SELECT count(*) FROM ${versionMetrics} WHERE ${versionMetrics.modelId} = ${model.id} AND ${versionMetrics.name} = ${metric}) < (SELECT count(*) FROM ${versions} WHERE ${versions.modelId} = ${model.id})`;
  // A small model's first phase answers it too (as a column), which saves
  // the second statement; a large one's counts cost more than they save
  // on a page the first phase fills.
  const askFirst = model !== undefined && model.versionCount <= SMALL_MODEL;
  let rows: ListRow[] = [];
  if (!after || after[0] === "m") {
    rows = await listRows(
      db,
      sql`${versionMetrics} INNER JOIN ${versions} ON ${versions.id} = ${versionMetrics.versionId} INNER JOIN ${models} ON ${versions.modelId} = ${models.id}`,
      and(
        q.scopeCond,
        eq(versionMetrics.name, metric),
        base,
        after ? sql`(${versionMetrics.value}, ${versionMetrics.seq}) ${cmp} (${Number(after[1])}::double precision, ${Number(after[2])})` : undefined,
      ),
      [dir(versionMetrics.value), dir(versionMetrics.seq)],
      limit,
      askFirst ? sql`${versionMetrics.value} AS value, ${lacking} AS lacking` : sql`${versionMetrics.value} AS value`,
    );
  }
  if (rows.length <= limit && !(askFirst && rows.length > 0 && rows[0]!.lacking === false)) {
    const more = await listRows(
      db,
      versionsJoined,
      and(
        base,
        sql`NOT EXISTS (SELECT 1 FROM ${versionMetrics} WHERE ${versionMetrics.versionId} = ${versions.id} AND ${versionMetrics.name} = ${metric})`,
        after?.[0] === "n" ? sql`${versions.seq} ${cmp} ${Number(after[2])}` : undefined,
        lacking,
      ),
      [dir(versions.seq)],
      limit - rows.length,
    );
    rows = [...rows, ...more];
  }
  return {
    rows,
    keys: rows.map((r) => (r.value !== undefined && r.value !== null ? ["m", String(Number(r.value)), String(r.seq)] : ["n", "", String(r.seq)])),
  };
}
