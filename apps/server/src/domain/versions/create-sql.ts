// Creating versions. An auto-numbered create is one prepared statement:
// lock the model, take its next number, insert the version, its metric
// rows and the audit row, and move the model's counters, in one round trip,
// so concurrent creates never share a number. A create with an explicit
// version id locks the model in a transaction and moves "latest" and the
// auto-numbering up when the new version is higher.
import { type Database, models, type Tx, versionMetrics, type VersionRow, versions } from "@modelreg/db";
import { Lifecycle } from "@modelreg/proto";
import { eq, sql } from "drizzle-orm";
import { NotFoundError } from "../shared/errors.js";
import { prepareRaw, rowsOf } from "../shared/raw-rows.js";
import { type ModelName, modelResourceName } from "../shared/resource-names.js";
import { auditInsert, auditParams, auditWritten, type Scope } from "../shared/scope.js";
import { autoNumberingAfter, autoVersion, compareVersions } from "../shared/semver.js";
import { modelWhere } from "./lookup-sql.js";
import { fromRaw, toVersion } from "./mapping.js";
import { splitMetadata } from "./metadata.js";
import type { Lineage, ModelRef, Version, VersionFields } from "./types.js";

/** The auto-numbered create, prepared once per database. */
export interface NumberedCreate {
  /** Creates the model's next auto-numbered version; NotFoundError when the model is not in scope. */
  execute(scope: Scope, n: ModelName, fields: VersionFields, lineage: Lineage, requestId: string): Promise<Version>;
}

export function prepareNumberedCreate(db: Database): NumberedCreate {
  // Prepared once: planning this statement anew on every call (Drizzle runs
  // its other queries as unnamed statements) would cost PostgreSQL more
  // than executing it.
  const statement = prepareRaw(
    db,
    "modelreg_create_numbered_version_v3",
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
        ${auditInsert(sql`v`)}
      ), u AS (
        UPDATE ${models}
        SET version_count = ${models.versionCount} + 1,
            latest_version = v.version,
            next_auto_patch = ${models.nextAutoPatch} + 1
        FROM v WHERE ${models.id} = v.model_id
      )
      SELECT v.*, m.name AS model_name FROM v, m`,
  );
  return {
    async execute(scope, n, fields, lineage, requestId) {
      const split = splitMetadata(fields.metadata);
      const result = await statement.execute({
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
        ...auditParams(scope),
      });
      const raw = rowsOf<Record<string, unknown>>(result)[0];
      if (!raw) throw new NotFoundError("model", modelResourceName(n.workspace, n.model));
      auditWritten(scope);
      return toVersion(fromRaw(raw), { workspace: raw.workspace as string, name: raw.model_name as string });
    },
  };
}

/** The model a named create goes into, locked, with what its counters need. */
export async function lockModelForCreate(tx: Tx, scope: Scope, n: ModelName) {
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
  return m;
}
type LockedModel = NonNullable<Awaited<ReturnType<typeof lockModelForCreate>>>;

/** Inserts a version with an explicit id into the locked model and moves the model's counters. */
export async function insertNamed(
  tx: Tx,
  m: LockedModel & ModelRef,
  v: { versionId: string; sortKey: string; fields: VersionFields; lineage: Lineage; requestId: string },
): Promise<VersionRow> {
  const [row] = await tx
    .insert(versions)
    .values({
      modelId: m.id,
      workspace: m.workspace,
      version: v.versionId,
      sortKey: v.sortKey,
      description: v.fields.description,
      labels: v.fields.labels,
      lifecycle: v.fields.lifecycle || Lifecycle.ACTIVE,
      ...v.lineage,
      ...splitMetadata(v.fields.metadata),
      requestId: v.requestId || null,
    })
    .returning();
  await writeMetrics(tx, row!);
  const higher = m.latestVersion === "" || compareVersions(v.versionId, m.latestVersion) > 0;
  const current = autoVersion({ prefix: m.nextAutoPrefix, keyPrefix: m.nextAutoKeyPrefix, patch: m.nextAutoPatch });
  const after = autoNumberingAfter(v.versionId);
  const advance = autoVersion(after).sortKey > current.sortKey;
  await tx
    .update(models)
    .set({
      versionCount: sql`${models.versionCount} + 1`,
      ...(higher ? { latestVersion: v.versionId } : {}),
      ...(advance ? { nextAutoPrefix: after.prefix, nextAutoKeyPrefix: after.keyPrefix, nextAutoPatch: after.patch } : {}),
    })
    .where(eq(models.id, m.id));
  return row!;
}

/** The metric index rows of a version (one per metric), for ordering by a metric. */
export async function writeMetrics(tx: Tx, row: VersionRow): Promise<void> {
  const entries = Object.entries(row.metrics);
  if (entries.length === 0) return;
  await tx
    .insert(versionMetrics)
    .values(entries.map(([name, value]) => ({ versionId: row.id, modelId: row.modelId, workspace: row.workspace, name, value, seq: row.seq })));
}
