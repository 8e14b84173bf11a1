// Versions: create (race-free auto-numbering, idempotent with request_id),
// get (by name, uid or alias), list (filter, order, keyset pages within a
// model or across a workspace), update (etag, update mask), delete.
import { auditEvents, type Database, models, versionMetrics, versions, type VersionRow, type Tx } from "@modelreg/db";
import { FrameworkSchema, Lifecycle, LifecycleSchema, VersionStateSchema } from "@modelreg/proto";
import { and, asc, desc, eq, sql, type SQL } from "drizzle-orm";
import { isUniqueViolation } from "../shared/db-errors.js";
import { enumCodes } from "../shared/enum-codes.js";
import { AlreadyExistsError, EtagMismatchError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { etagOf } from "../shared/etag.js";
import { compileFilter, type FilterExpr, type FilterFields, parseFilter } from "../shared/filter/index.js";
import { parseOrderBy } from "../shared/order-by.js";
import { decodePageToken, encodePageToken, queryFingerprint } from "../shared/page-token.js";
import { prepareRaw, rowsOf } from "../shared/raw-rows.js";
import {
  modelResourceName,
  parseModelName,
  parseVersionRefName,
  parseWorkspaceName,
  type ModelName,
  type VersionRefName,
  versionResourceName,
} from "../shared/resource-names.js";
import { inScope, type Scope, writeAudit } from "../shared/scope.js";
import { requireWorkspace } from "../workspaces/index.js";
import { autoNumberingAfter, autoVersion, compareVersions, parseSemver } from "./semver.js";
import { resolveUpdateMask } from "../shared/update-mask.js";
import { checkCommonFields, checkPageSize, checkText, collect, Violations } from "../shared/validation.js";
import {
  checkMetadata,
  EMPTY_METADATA,
  joinMetadata,
  METADATA_FIELDS,
  METADATA_KEY,
  type MetadataField,
  normalizeMetadata,
  splitMetadata,
  type VersionMetadata,
} from "./metadata.js";

export interface Version {
  uid: string;
  name: string;
  version: string;
  description: string;
  labels: Record<string, string>;
  createTime: Date;
  updateTime: Date;
  etag: string;
  /** Resource name of the model. */
  model: string;
  modelUid: string;
  lineage: Lineage;
  /** modelreg.v1.VersionState: 1 pending, 2 ready. */
  state: number;
  fileCount: number;
  totalSize: number;
  manifestDigest: string;
  metadata: VersionMetadata;
  /** modelreg.v1.Lifecycle: 1 active, 2 archived. */
  lifecycle: number;
  /** Aliases of the model pointing here, sorted. */
  aliases: string[];
}

/** Where a version came from; set at creation only. */
export interface Lineage {
  trainingAlgorithmCode: string;
  trainingAlgorithmVersion: string;
  sourceLocation: string;
  sourceTask: string;
  sourceJobId: string;
  sourceJobVersion: string;
  dataVersion: string;
  sourceType: string;
}

export const NO_LINEAGE: Lineage = {
  trainingAlgorithmCode: "",
  trainingAlgorithmVersion: "",
  sourceLocation: "",
  sourceTask: "",
  sourceJobId: "",
  sourceJobVersion: "",
  dataVersion: "",
  sourceType: "",
};

/** The user-settable fields of a version. */
export interface VersionFields {
  description: string;
  labels: Record<string, string>;
  metadata: VersionMetadata;
  /** 0 = unspecified (ACTIVE on create). */
  lifecycle: number;
}

const UPDATABLE = ["description", "labels", ...METADATA_FIELDS, "lifecycle"] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TASK_NAME = /^workspaces\/[a-z][a-z0-9-]{0,62}\/tasks\/[A-Za-z0-9_-]{1,64}$/;

interface ModelRef {
  workspace: string;
  name: string;
}

export function toVersion(row: VersionRow, m: ModelRef, aliases: string[] = []): Version {
  return {
    uid: row.id,
    name: versionResourceName(m.workspace, m.name, row.version),
    version: row.version,
    description: row.description,
    labels: row.labels,
    createTime: row.createTime,
    updateTime: row.updateTime,
    etag: etagOf(row.id, row.revision),
    model: modelResourceName(m.workspace, m.name),
    modelUid: row.modelId,
    lineage: {
      trainingAlgorithmCode: row.trainingAlgorithmCode,
      trainingAlgorithmVersion: row.trainingAlgorithmVersion,
      sourceLocation: row.sourceLocation,
      sourceTask: row.sourceTask,
      sourceJobId: row.sourceJobId,
      sourceJobVersion: row.sourceJobVersion,
      dataVersion: row.dataVersion,
      sourceType: row.sourceType,
    },
    state: row.state,
    fileCount: row.fileCount,
    totalSize: Number(row.totalSize),
    manifestDigest: row.manifestDigest,
    metadata: joinMetadata(row),
    lifecycle: row.lifecycle,
    aliases,
  };
}

/** The aliases of a version, as one subquery (a JSON array; both drivers parse it). */
const aliasesOf = sql<string[]>`(SELECT coalesce(jsonb_agg(a.alias ORDER BY a.alias), '[]'::jsonb) FROM model_aliases a WHERE a.version_id = ${versions.id})`;

/**
 * The columns a list page reads, in one raw chunk (building ~35 column
 * references per call cost more than the statement), named as ListRow.
 * Aliases: one subquery per row, NULL when there are none (aliases hold no
 * comma).
 */
const LIST_COLUMNS = sql.raw(
  `"versions".*, "models"."name" AS model_name, (SELECT string_agg(a.alias, ',' ORDER BY a.alias) FROM model_aliases a WHERE a.version_id = "versions"."id") AS aliases`,
);

/** A row of LIST_COLUMNS as either driver returns it: the versions columns (see fromRaw) and these. */
type ListRow = Record<string, unknown> & {
  sort_key: string;
  seq: string | number;
  model_name: string;
  aliases: string | null;
  /** pageBySeq by update_time: its keyset value. */
  micros?: string;
  /** pageByMetric's first phase: the metric. */
  value?: number | string | null;
  /** pageByMetric's first phase in a small model: does any version of the model lack the metric? */
  lacking?: boolean;
};

/** Up to this many versions, a model's metric-ordered pages count its metric rows up front (see pageByMetric). */
const SMALL_MODEL = 10_000;

/** The Version of a list row: the same mapping as any raw versions row. */
const fromListRow = (r: ListRow): Version =>
  toVersion(fromRaw(r), { workspace: r.workspace as string, name: r.model_name }, r.aliases ? r.aliases.split(",") : []);

/**
 * The condition naming one model within the caller's scope: a model in
 * another workspace takes exactly the path of one that does not exist.
 */
function modelWhere(scope: Scope, n: ModelName): SQL {
  return and(eq(models.workspace, n.workspace), eq(models.nameKey, n.model.toLowerCase()), inScope(scope, models.workspace))!;
}

/** The condition naming one version: by version id, or through an alias, within the caller's scope. Needs versions joined with models. */
export function versionRefWhere(scope: Scope, n: VersionRefName): SQL {
  const model = modelWhere(scope, n);
  if (n.kind === "version") return and(model, eq(versions.version, n.version))!;
  return and(model, sql`${versions.id} = (SELECT a.version_id FROM model_aliases a WHERE a.model_id = ${models.id} AND a.alias = ${n.alias})`)!;
}

/** The "not found" for a version reference whose model exists: the version, or the alias when one was used. */
function refNotFound(name: string, n: VersionRefName): NotFoundError {
  return n.kind === "alias" ? new NotFoundError("alias", name) : new NotFoundError("version", name);
}

/**
 * The "not found" for a version reference that matched nothing: the model
 * when it does not exist in the caller's scope, else the version (or the
 * alias). Only for the miss path: it costs one more query, a hit none.
 * Pass the transaction the lookup ran in, if any.
 */
export async function versionNotFound(q: Pick<Database, "select">, scope: Scope, name: string, n: VersionRefName): Promise<NotFoundError> {
  const [model] = await q.select({ id: models.id }).from(models).where(modelWhere(scope, n)).limit(1);
  return model ? refNotFound(name, n) : new NotFoundError("model", modelResourceName(n.workspace, n.model));
}

/** The filterable fields of ListVersions (stated on ListVersionsRequest.filter). */
const FILTER_FIELDS: FilterFields = {
  version: { kind: "string", column: versions.version },
  model: { kind: "string", column: models.name },
  runtime: { kind: "string", column: versions.runtime },
  algorithm: { kind: "string", column: versions.algorithm },
  data_version: { kind: "string", column: versions.dataVersion },
  training_algorithm_code: { kind: "string", column: versions.trainingAlgorithmCode },
  training_algorithm_version: { kind: "string", column: versions.trainingAlgorithmVersion },
  source_job_id: { kind: "string", column: versions.sourceJobId },
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
const MODEL_FILTER_FIELDS: FilterFields = { ...FILTER_FIELDS, labels: { kind: "map", column: versions.labels, valueKind: "string", containment: false } };

function mentions(expr: FilterExpr, field: string): boolean {
  switch (expr.kind) {
    case "all":
      return false;
    case "and":
    case "or":
      return expr.args.some((a) => mentions(a, field));
    case "not":
      return mentions(expr.arg, field);
    case "compare":
      return expr.field === field;
  }
}

function checkLineage(v: Violations, l: Lineage): void {
  const at = (f: string) => `version.lineage.${f}`;
  checkText(v, at("training_algorithm_code"), l.trainingAlgorithmCode, 128);
  checkText(v, at("training_algorithm_version"), l.trainingAlgorithmVersion, 64);
  checkText(v, at("source_job_id"), l.sourceJobId, 128);
  checkText(v, at("source_job_version"), l.sourceJobVersion, 64);
  checkText(v, at("data_version"), l.dataVersion, 128);
  if (l.sourceType !== "" && !/^[A-Za-z0-9_-]{1,32}$/.test(l.sourceType)) v.add(at("source_type"), `"${l.sourceType.slice(0, 40)}" is not a source type: at most 32 letters, digits, _ -`);
  if (l.sourceLocation !== "") {
    let ok = l.sourceLocation.length <= 2048 && !/\s/.test(l.sourceLocation);
    try {
      ok &&= /^[a-z][a-z0-9+.-]*:$/.test(new URL(l.sourceLocation).protocol);
    } catch {
      ok = false;
    }
    if (!ok) v.add(at("source_location"), `"${l.sourceLocation.slice(0, 80)}" is not a URI (e.g. s3://bucket/run-42/ or https://...): at most 2,048 characters, no spaces`);
  }
  if (l.sourceTask !== "" && !TASK_NAME.test(l.sourceTask)) v.add(at("source_task"), `"${l.sourceTask.slice(0, 80)}" is not a task name: expected workspaces/{workspace}/tasks/{task}`);
}

function checkLifecycle(v: Violations, lifecycle: number): void {
  if (![0, Lifecycle.ACTIVE, Lifecycle.ARCHIVED].includes(lifecycle)) v.add("version.lifecycle", `${lifecycle} is not ACTIVE or ARCHIVED`);
}

/** A page of versions in the order asked for. */
export interface VersionPage {
  versions: Version[];
  nextPageToken: string;
}

export interface ListOptions {
  pageSize: number;
  pageToken: string;
  filter?: string;
  orderBy?: string;
}

export type VersionsDomain = ReturnType<typeof createVersionsDomain>;

export function createVersionsDomain(db: Database) {
  const joined = { v: versions, workspace: models.workspace, modelName: models.name, aliases: aliasesOf } as const;

  // The read path is hot: build its statements once. By name and by alias
  // differ only in the last condition.
  const prepareLookup = (name: string, last: SQL) =>
    db
      .select(joined)
      .from(versions)
      .innerJoin(models, eq(versions.modelId, models.id))
      .where(
        and(
          eq(models.workspace, sql.placeholder("workspace")),
          eq(models.workspace, sql.placeholder("scope")),
          eq(models.nameKey, sql.placeholder("model")),
          last,
        ),
      )
      .prepare(name);
  const getByName = prepareLookup("modelreg_get_version_by_name", eq(versions.version, sql.placeholder("version")));
  const getByAlias = prepareLookup(
    "modelreg_get_version_by_alias",
    sql`${versions.id} = (SELECT a.version_id FROM model_aliases a WHERE a.model_id = ${models.id} AND a.alias = ${sql.placeholder("alias")})`,
  );
  const getByUid = db
    .select(joined)
    .from(versions)
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(and(eq(versions.id, sql.placeholder("uid")), sql`(${models.workspace} = ${sql.placeholder("scope")} OR ${sql.placeholder("all")}::boolean)`))
    .prepare("modelreg_get_version_by_uid");

  const lookup = async (scope: Scope, n: VersionRefName) => {
    const common = { workspace: n.workspace, scope: scope.workspace ?? n.workspace, model: n.model.toLowerCase() };
    const rows = n.kind === "alias" ? await getByAlias.execute({ ...common, alias: n.alias }) : await getByName.execute({ ...common, version: n.version });
    return rows[0];
  };

  // The auto-numbered create, prepared once: planning this statement anew
  // on every call (Drizzle runs its other queries as unnamed statements)
  // cost PostgreSQL more than executing it.
  const numbered = prepareRaw(
    db,
    "modelreg_create_numbered_version_v2",
    sql`
      WITH m AS (
        SELECT id, workspace, name, next_auto_prefix, next_auto_key_prefix, next_auto_patch
        FROM ${models}
        WHERE workspace = ${sql.placeholder("workspace")} AND workspace = ${sql.placeholder("scope")} AND name_key = ${sql.placeholder("model")}
        FOR UPDATE
      ), v AS (
        INSERT INTO ${versions} (model_id, workspace, version, sort_key, description, labels, lifecycle,
          training_algorithm_code, training_algorithm_version, source_location, source_task, source_job_id, source_job_version, data_version, source_type,
          framework, runtime, algorithm, metrics, metadata, request_id)
        SELECT m.id, m.workspace,
               m.next_auto_prefix || m.next_auto_patch::text,
               m.next_auto_key_prefix || chr(64 + length(m.next_auto_patch::text)) || m.next_auto_patch::text || '~',
               ${sql.placeholder("description")}, ${sql.placeholder("labels")}::jsonb, ${sql.placeholder("lifecycle")}::smallint,
               ${sql.placeholder("algorithmCode")}, ${sql.placeholder("algorithmVersion")}, ${sql.placeholder("sourceLocation")}, ${sql.placeholder("sourceTask")},
               ${sql.placeholder("sourceJobId")}, ${sql.placeholder("sourceJobVersion")}, ${sql.placeholder("dataVersion")}, ${sql.placeholder("sourceType")},
               ${sql.placeholder("framework")}::smallint, ${sql.placeholder("runtime")}, ${sql.placeholder("algorithm")},
               ${sql.placeholder("metrics")}::jsonb, ${sql.placeholder("metadata")}::jsonb, nullif(${sql.placeholder("requestId")}::text, '')
        FROM m
        RETURNING *
      ), mt AS (
        INSERT INTO ${versionMetrics} (version_id, model_id, workspace, name, value, seq)
        SELECT v.id, v.model_id, v.workspace, e.key, e.value::double precision, v.seq FROM v, jsonb_each_text(v.metrics) e
      ), a AS (
        INSERT INTO ${auditEvents} (workspace, "user", access_key_id, method, resource, code, request_id)
        SELECT ${sql.placeholder("auditWorkspace")}, ${sql.placeholder("auditUser")}, ${sql.placeholder("auditKeyId")}, ${sql.placeholder("auditMethod")}, ${sql.placeholder("auditResource")}, 'ok', ${sql.placeholder("auditRequestId")}
        FROM v WHERE ${sql.placeholder("audited")}::boolean
      ), u AS (
        UPDATE ${models}
        SET version_count = ${models.versionCount} + 1,
            latest_version = v.version,
            next_auto_patch = ${models.nextAutoPatch} + 1
        FROM v WHERE ${models.id} = v.model_id
      )
      SELECT v.*, m.name AS model_name FROM v, m`,
  );

  async function createNumbered(scope: Scope, n: ModelName, fields: VersionFields, lineage: Lineage, requestId: string): Promise<Version> {
    const audit = scope.audit?.values();
    const split = splitMetadata(fields.metadata);
    const result = await numbered.execute({
      workspace: n.workspace,
      scope: scope.workspace ?? n.workspace,
      model: n.model.toLowerCase(),
      description: fields.description,
      labels: JSON.stringify(fields.labels),
      lifecycle: fields.lifecycle || Lifecycle.ACTIVE,
      algorithmCode: lineage.trainingAlgorithmCode,
      algorithmVersion: lineage.trainingAlgorithmVersion,
      sourceLocation: lineage.sourceLocation,
      sourceTask: lineage.sourceTask,
      sourceJobId: lineage.sourceJobId,
      sourceJobVersion: lineage.sourceJobVersion,
      dataVersion: lineage.dataVersion,
      sourceType: lineage.sourceType,
      framework: split.framework,
      runtime: split.runtime,
      algorithm: split.algorithm,
      metrics: JSON.stringify(split.metrics),
      metadata: JSON.stringify(split.metadata),
      requestId,
      audited: audit !== undefined,
      auditWorkspace: audit?.workspace ?? "",
      auditUser: audit?.user ?? "",
      auditKeyId: audit?.accessKeyId ?? "",
      auditMethod: audit?.method ?? "",
      auditResource: audit?.resource ?? "",
      auditRequestId: audit?.requestId ?? "",
    });
    const raw = rowsOf<Record<string, unknown>>(result)[0];
    if (!raw) throw new NotFoundError("model", modelResourceName(n.workspace, n.model));
    scope.audit?.markWritten();
    return toVersion(fromRaw(raw), { workspace: raw.workspace as string, name: raw.model_name as string });
  }

  /** Create with an explicit version id: lock the model, insert, move "latest" and auto-numbering up if it is higher. */
  async function createNamed(scope: Scope, n: ModelName, versionId: string, fields: VersionFields, lineage: Lineage, requestId: string): Promise<Version> {
    const parsed = parseSemver(versionId);
    const sortKey = parsed.sortKey!;
    let attempted = versionResourceName(n.workspace, n.model, versionId);
    try {
      return await db.transaction(async (tx) => {
        const [m] = await tx
          .select({
            id: models.id,
            workspace: models.workspace,
            name: models.name,
            latestVersion: models.latestVersion,
            nextAutoPrefix: models.nextAutoPrefix,
            nextAutoKeyPrefix: models.nextAutoKeyPrefix,
            nextAutoPatch: models.nextAutoPatch,
          })
          .from(models)
          .where(modelWhere(scope, n))
          .for("update");
        if (!m) throw new NotFoundError("model", modelResourceName(n.workspace, n.model));
        attempted = versionResourceName(m.workspace, m.name, versionId);
        const [row] = await tx
          .insert(versions)
          .values({
            modelId: m.id,
            workspace: m.workspace,
            version: versionId,
            sortKey,
            description: fields.description,
            labels: fields.labels,
            lifecycle: fields.lifecycle || Lifecycle.ACTIVE,
            ...lineage,
            ...splitMetadata(fields.metadata),
            requestId: requestId || null,
          })
          .returning();
        await writeMetrics(tx, row!);
        const higher = m.latestVersion === "" || compareVersions(versionId, m.latestVersion) > 0;
        const current = autoVersion({ prefix: m.nextAutoPrefix, keyPrefix: m.nextAutoKeyPrefix, patch: m.nextAutoPatch });
        const after = autoNumberingAfter(versionId);
        const advance = autoVersion(after).sortKey > current.sortKey;
        await tx
          .update(models)
          .set({
            versionCount: sql`${models.versionCount} + 1`,
            ...(higher ? { latestVersion: versionId } : {}),
            ...(advance ? { nextAutoPrefix: after.prefix, nextAutoKeyPrefix: after.keyPrefix, nextAutoPatch: after.patch } : {}),
          })
          .where(eq(models.id, m.id));
        await writeAudit(tx, scope);
        return toVersion(row!, m);
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      // A concurrent retry with the same request id may have won the race.
      const earlier = requestId ? await byRequestId(scope, n, requestId) : undefined;
      if (earlier) return earlier;
      throw new AlreadyExistsError("version", attempted);
    }
  }

  /** The version an earlier create with this request id made, if any. */
  async function byRequestId(scope: Scope, n: ModelName, requestId: string): Promise<Version | undefined> {
    const [hit] = await db
      .select(joined)
      .from(versions)
      .innerJoin(models, eq(versions.modelId, models.id))
      .where(and(modelWhere(scope, n), eq(versions.requestId, requestId)));
    return hit ? toVersion(hit.v, { workspace: hit.workspace, name: hit.modelName }, hit.aliases) : undefined;
  }

  /** Runs one page query of `list`; the caller cuts the page. */
  type Cond = SQL | undefined;

  /** One page statement: LIST_COLUMNS (plus `extra`) of versions joined to models, raw rows mapped once. */
  async function listRows(from: SQL, where: Cond, orderBy: SQL[], limit: number, extra?: SQL): Promise<ListRow[]> {
    const result = await db.execute(
      sql`SELECT ${LIST_COLUMNS}${extra ? sql`, ${extra}` : sql``} FROM ${from} WHERE ${where ?? sql`true`} ORDER BY ${sql.join(orderBy, sql`, `)} LIMIT ${limit + 1}`,
    );
    return rowsOf<ListRow>(result);
  }
  const versionsJoined = sql`${versions} INNER JOIN ${models} ON ${versions.modelId} = ${models.id}`;

  async function pageBySemver(base: Cond, descending: boolean, after: string[] | undefined, limit: number) {
    const dir = descending ? desc : asc;
    const cmp = descending ? sql`<` : sql`>`;
    const rows = await listRows(
      versionsJoined,
      and(base, after ? sql`(${versions.sortKey}, ${versions.seq}) ${cmp} (${after[1]}, ${Number(after[2])})` : undefined),
      [dir(versions.sortKey), dir(versions.seq)],
      limit,
    );
    return { rows, keys: rows.map((r) => ["", r.sort_key, String(r.seq)]) };
  }

  async function pageBySeq(base: Cond, descending: boolean, after: string[] | undefined, limit: number, column: "seq" | "update_time") {
    const dir = descending ? desc : asc;
    const cmp = descending ? sql`<` : sql`>`;
    // update_time in whole microseconds, as PostgreSQL keeps it (a JS Date would drop them).
    const micros = sql<string>`(extract(epoch from ${versions.updateTime}) * 1000000)::bigint`;
    const keyset =
      column === "seq"
        ? after && sql`${versions.seq} ${cmp} ${Number(after[2])}`
        : after && sql`(${micros}, ${versions.seq}) ${cmp} (${after[1]}::bigint, ${Number(after[2])})`;
    const rows = await listRows(
      versionsJoined,
      and(base, keyset),
      column === "seq" ? [dir(versions.seq)] : [dir(micros), dir(versions.seq)],
      limit,
      column === "seq" ? undefined : sql`${micros}::text AS micros`,
    );
    return { rows, keys: rows.map((r) => ["", column === "seq" ? "" : r.micros!, String(r.seq)]) };
  }

  /**
   * Ordered by a metric: versions that have it, from the metric index, then
   * (versions without it come last) the others by creation order. The
   * keyset says which phase: ["m", value, seq] or ["n", "", seq].
   */
  async function pageByMetric(
    base: Cond,
    scopeCond: SQL,
    model: { id: string; versionCount: number } | undefined,
    metric: string,
    descending: boolean,
    after: string[] | undefined,
    limit: number,
  ) {
    const dir = descending ? desc : asc;
    const cmp = descending ? sql`<` : sql`>`;
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
        sql`${versionMetrics} INNER JOIN ${versions} ON ${versions.id} = ${versionMetrics.versionId} INNER JOIN ${models} ON ${versions.modelId} = ${models.id}`,
        and(
          scopeCond,
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

  return {
    async create(scope: Scope, parent: string, versionId: string, fields: VersionFields, lineage: Lineage = NO_LINEAGE, requestId = ""): Promise<Version> {
      const v = new Violations();
      const n = collect(v, () => parseModelName("parent", parent));
      if (versionId !== "") {
        const problem = parseSemver(versionId).error;
        if (problem) v.add("version_id", problem);
      }
      checkCommonFields(v, "version", fields);
      checkLineage(v, lineage);
      checkMetadata(v, "version", fields.metadata);
      checkLifecycle(v, fields.lifecycle);
      if (requestId !== "" && !REQUEST_ID.test(requestId)) v.add("request_id", "is not a request id: 1-64 letters, digits, '-' and '_' (a UUID is a good choice)");
      if (!v.empty || !n) throw new InvalidArgumentError(v.list);
      const normalized = { ...fields, metadata: normalizeMetadata(fields.metadata) };
      if (requestId) {
        const earlier = await byRequestId(scope, n, requestId);
        if (earlier) return earlier;
      }
      if (versionId !== "") return createNamed(scope, n, versionId, normalized, lineage, requestId);
      try {
        return await createNumbered(scope, n, normalized, lineage, requestId);
      } catch (e) {
        // Only the request id can collide here: a concurrent retry created it first.
        const earlier = requestId && isUniqueViolation(e) ? await byRequestId(scope, n, requestId) : undefined;
        if (earlier) return earlier;
        throw e;
      }
    },

    async get(scope: Scope, ref: { name: string } | { uid: string }): Promise<Version> {
      if ("uid" in ref) {
        if (!UUID.test(ref.uid)) throw InvalidArgumentError.field("uid", `"${ref.uid.slice(0, 40)}" is not a version uid (a UUID such as 0190b6d2-7a1c-4c55-9e0e-6f1b2c3d4e5f)`);
        const [hit] = await getByUid.execute({ uid: ref.uid.toLowerCase(), scope: scope.workspace ?? "", all: scope.workspace === null });
        if (!hit) throw new NotFoundError("version", ref.uid, `version with uid ${ref.uid}`);
        return toVersion(hit.v, { workspace: hit.workspace, name: hit.modelName }, hit.aliases);
      }
      const n = parseVersionRefName("name", ref.name);
      const hit = await lookup(scope, n);
      if (!hit) throw await versionNotFound(db, scope, ref.name, n);
      return toVersion(hit.v, { workspace: hit.workspace, name: hit.modelName }, hit.aliases);
    },

    async list(scope: Scope, parent: string, opts: ListOptions): Promise<VersionPage> {
      const v = new Violations();
      const across = /^workspaces\/[^/]+\/models\/-$/.test(parent);
      const n = across ? undefined : collect(v, () => parseModelName("parent", parent));
      const workspace = across ? collect(v, () => parseWorkspaceName("parent", parent.slice(0, -"/models/-".length)))?.workspace : n?.workspace;
      const limit = checkPageSize(v, opts.pageSize);
      const filterText = opts.filter ?? "";
      const expr = collect(v, () => parseFilter(filterText));
      const order = collect(v, () =>
        parseOrderBy(opts.orderBy ?? "", ["version", "create_time", "update_time"], ["metrics"], across ? { field: "create_time", desc: true } : { field: "version", desc: true }),
      );
      if (!v.empty || !workspace || !expr || !order) throw new InvalidArgumentError(v.list);
      const condition = compileFilter(expr, n ? MODEL_FILTER_FIELDS : FILTER_FIELDS);

      // Where to look: one model, or the workspace; for the metric index too.
      let versionScope: SQL;
      let metricScope: SQL;
      let model: { id: string; versionCount: number } | undefined;
      if (n) {
        const [m] = await db.select({ id: models.id, versionCount: models.versionCount }).from(models).where(modelWhere(scope, n));
        if (!m) throw new NotFoundError("model", parent);
        model = m;
        versionScope = eq(versions.modelId, m.id);
        metricScope = eq(versionMetrics.modelId, m.id);
      } else {
        if (scope.workspace !== null && scope.workspace !== workspace) throw new NotFoundError("workspace", `workspaces/${workspace}`);
        versionScope = eq(versions.workspace, workspace);
        metricScope = eq(versionMetrics.workspace, workspace);
      }
      const base = and(versionScope, condition, mentions(expr, "lifecycle") ? undefined : eq(versions.lifecycle, Lifecycle.ACTIVE));
      const fp = queryFingerprint("versions", parent.toLowerCase(), filterText, `${order.field}.${order.key ?? ""}.${order.desc}`);
      const after = decodePageToken(opts.pageToken, fp, 3);
      const page =
        order.field === "metrics"
          ? await pageByMetric(base, metricScope, model, order.key!, order.desc, after, limit)
          : order.field === "version"
            ? await pageBySemver(base, order.desc, after, limit)
            : await pageBySeq(base, order.desc, after, limit, order.field === "create_time" ? "seq" : "update_time");
      // An empty answer must not hide a missing workspace.
      if (!n && page.rows.length === 0 && !after) await requireWorkspace(db, scope, workspace);
      // Keys are [phase, value, seq]: the phase and value only mean something for a metric order.
      const rows = page.rows.slice(0, limit);
      return {
        versions: rows.map(fromListRow),
        nextPageToken: page.rows.length > limit ? encodePageToken(fp, page.keys[limit - 1]!) : "",
      };
    },

    async update(scope: Scope, name: string, etag: string, paths: string[], fields: VersionFields): Promise<Version> {
      const n = parseVersionRefName("version.name", name);
      const mask = resolveUpdateMask(paths, UPDATABLE);
      const v = new Violations();
      checkCommonFields(v, "version", {
        description: mask.has("description") ? fields.description : undefined,
        labels: mask.has("labels") ? fields.labels : undefined,
      });
      const metadataMask = METADATA_FIELDS.filter((f) => mask.has(f));
      // Only the fields in the mask count; the others are ignored, whatever they hold.
      const masked = { ...EMPTY_METADATA, ...Object.fromEntries(metadataMask.map((f) => [METADATA_KEY[f], fields.metadata[METADATA_KEY[f]]])) } as VersionMetadata;
      checkMetadata(v, "version", masked);
      if (mask.has("lifecycle")) {
        checkLifecycle(v, fields.lifecycle);
        if (fields.lifecycle === 0) v.add("version.lifecycle", "is required when lifecycle is in the update mask: ACTIVE or ARCHIVED");
      }
      if (!v.empty) throw new InvalidArgumentError(v.list);
      return db.transaction(async (tx) => {
        const [hit] = await tx
          .select({ v: versions, workspace: models.workspace, modelName: models.name, aliases: aliasesOf })
          .from(versions)
          .innerJoin(models, eq(versions.modelId, models.id))
          .where(versionRefWhere(scope, n))
          .for("update", { of: versions });
        if (!hit) throw await versionNotFound(tx, scope, name, n);
        const resource = versionResourceName(hit.workspace, hit.modelName, hit.v.version);
        const current = etagOf(hit.v.id, hit.v.revision);
        if (etag !== "" && etag !== current) throw new EtagMismatchError(resource, current);
        if (mask.has("lifecycle") && fields.lifecycle === Lifecycle.ARCHIVED && hit.aliases.length > 0)
          throw new FailedPreconditionError(
            "VERSION_HAS_ALIASES",
            `${resource} is what ${hit.aliases.map((a) => `@${a}`).join(", ")} point at; move or delete those aliases before archiving it`,
            { resource, aliases: hit.aliases.join(",") },
          );
        const merged = normalizeMetadata({
          ...joinMetadata(hit.v),
          ...Object.fromEntries(metadataMask.map((f: MetadataField) => [METADATA_KEY[f], masked[METADATA_KEY[f]]])),
        } as VersionMetadata);
        const [row] = await tx
          .update(versions)
          .set({
            ...(mask.has("description") ? { description: fields.description } : {}),
            ...(mask.has("labels") ? { labels: fields.labels } : {}),
            ...(mask.has("lifecycle") ? { lifecycle: fields.lifecycle } : {}),
            ...(metadataMask.length ? splitMetadata(merged) : {}),
            revision: sql`${versions.revision} + 1`,
            updateTime: sql`now()`,
          })
          .where(eq(versions.id, hit.v.id))
          .returning();
        if (mask.has("metrics")) {
          await tx.delete(versionMetrics).where(eq(versionMetrics.versionId, row!.id));
          await writeMetrics(tx, row!);
        }
        await writeAudit(tx, scope);
        return toVersion(row!, { workspace: hit.workspace, name: hit.modelName }, hit.aliases);
      });
    },

    async delete(scope: Scope, name: string, etag: string): Promise<void> {
      const ref = parseVersionRefName("name", name);
      await db.transaction(async (tx) => {
        const [m] = await tx
          .select({ id: models.id, workspace: models.workspace, name: models.name, latestVersion: models.latestVersion })
          .from(models)
          .where(modelWhere(scope, ref))
          .for("update");
        if (!m) throw new NotFoundError("model", modelResourceName(ref.workspace, ref.model));
        const [row] = await tx
          .select({ v: versions })
          .from(versions)
          .innerJoin(models, eq(versions.modelId, models.id))
          .where(and(eq(versions.modelId, m.id), versionRefWhere(scope, ref)));
        if (!row) throw refNotFound(name, ref);
        const current = etagOf(row.v.id, row.v.revision);
        if (etag !== "" && etag !== current) throw new EtagMismatchError(versionResourceName(m.workspace, m.name, row.v.version), current);
        // Its aliases and metrics go with it (foreign keys cascade).
        await tx.delete(versions).where(eq(versions.id, row.v.id));
        // Deleting the highest version moves "latest" to the next one down.
        let latest: { latestVersion: string } | undefined;
        if (row.v.version === m.latestVersion) {
          const [next] = await tx
            .select({ version: versions.version })
            .from(versions)
            .where(eq(versions.modelId, m.id))
            .orderBy(desc(versions.sortKey), desc(versions.seq))
            .limit(1);
          latest = { latestVersion: next?.version ?? "" };
        }
        await tx
          .update(models)
          .set({ versionCount: sql`${models.versionCount} - 1`, ...latest })
          .where(eq(models.id, m.id));
        await writeAudit(tx, scope);
      });
    },
  };
}

async function writeMetrics(tx: Tx, row: VersionRow): Promise<void> {
  const entries = Object.entries(row.metrics);
  if (entries.length === 0) return;
  await tx
    .insert(versionMetrics)
    .values(entries.map(([name, value]) => ({ versionId: row.id, modelId: row.modelId, workspace: row.workspace, name, value, seq: row.seq })));
}

/** A versions row as raw SQL returns it (snake_case) -> the Drizzle row. */
function fromRaw(r: Record<string, unknown>): VersionRow {
  const s = (k: string) => r[k] as string;
  return {
    id: s("id"),
    modelId: s("model_id"),
    workspace: s("workspace"),
    version: s("version"),
    sortKey: s("sort_key"),
    description: s("description"),
    labels: r.labels as Record<string, string>,
    revision: Number(r.revision),
    trainingAlgorithmCode: s("training_algorithm_code"),
    trainingAlgorithmVersion: s("training_algorithm_version"),
    createTime: new Date(r.create_time as string),
    updateTime: new Date(r.update_time as string),
    state: Number(r.state),
    fileCount: Number(r.file_count),
    totalSize: Number(r.total_size),
    manifestDigest: s("manifest_digest"),
    draftStaged: r.draft_staged as boolean,
    seq: Number(r.seq),
    lifecycle: Number(r.lifecycle),
    framework: Number(r.framework),
    runtime: s("runtime"),
    algorithm: s("algorithm"),
    sourceLocation: s("source_location"),
    sourceTask: s("source_task"),
    sourceJobId: s("source_job_id"),
    sourceJobVersion: s("source_job_version"),
    dataVersion: s("data_version"),
    sourceType: s("source_type"),
    metrics: r.metrics as Record<string, number>,
    metadata: r.metadata as Record<string, unknown>,
    requestId: (r.request_id as string | null) ?? null,
  };
}

