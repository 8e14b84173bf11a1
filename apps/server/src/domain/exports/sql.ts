// The queries of export records: lookups by name within the caller's scope
// (locked for a change when asked), the version an export is of, the list's
// keyset pages, and the writes of create, cancel and delete. The export
// job's queries are in ./run-sql.ts.
import { type Database, exports, type ExportRow, models, versions, type Tx } from "@modelreg/db";
import { ExportFormatSchema, ExportState, ExportStateSchema } from "@modelreg/proto";
import { and, desc, eq, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import { enumCodes } from "../shared/enum-codes.js";
import { compileFilter, type FilterExpr, type FilterFields } from "../shared/filter/index.js";
import type { ModelName, VersionName, VersionRefName } from "../shared/resource-names.js";
import { inScope, type Scope } from "../shared/scope.js";
import { versionRefWhere } from "../versions/index.js";
import { REUSABLE } from "./rules.js";
import type { JoinedExportRow } from "./types.js";

/** The filterable fields of ListExports (stated on ListExportsRequest.filter). */
const FILTER_FIELDS: FilterFields = {
  state: { kind: "enumCode", column: exports.state, codes: enumCodes(ExportStateSchema) },
  format: { kind: "enumCode", column: exports.format, codes: enumCodes(ExportFormatSchema) },
  create_time: { kind: "timestamp", column: exports.createTime },
};

const selection = { e: exports, version: versions.version, model: models.name, workspace: models.workspace };

const joined = (q: Tx | Database) => q.select(selection).from(exports).innerJoin(versions, eq(exports.versionId, versions.id)).innerJoin(models, eq(versions.modelId, models.id));

/** One export by its version's name and its uid, within scope (locked when `lock`). */
export async function selectByName(q: Tx | Database, scope: Scope, n: { version: VersionName; id: string }, lock = false): Promise<JoinedExportRow | undefined> {
  const base = joined(q).where(
    and(
      eq(exports.id, n.id),
      eq(models.workspace, n.version.workspace),
      eq(models.nameKey, n.version.model.toLowerCase()),
      eq(versions.version, n.version.version),
      inScope(scope, models.workspace),
    ),
  );
  const [hit] = await (lock ? base.for("update", { of: exports }) : base);
  return hit;
}

/** The version a parent names (a version or an alias), within scope (locked when `lock`). */
export async function selectVersion(q: Tx | Database, scope: Scope, n: VersionRefName, lock = false) {
  const base = q
    .select({ id: versions.id, state: versions.state, revision: versions.revision, totalSize: versions.totalSize, version: versions.version, model: models.name, workspace: models.workspace })
    .from(versions)
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(versionRefWhere(scope, n));
  const [hit] = await (lock ? base.for("update", { of: versions }) : base);
  return hit;
}

/** The newest export of the version's revision in the format that is live or SUCCEEDED. */
export async function selectReusable(tx: Tx, versionId: string, format: number, revision: number): Promise<JoinedExportRow | undefined> {
  const [existing] = await joined(tx)
    .where(and(eq(exports.versionId, versionId), eq(exports.format, format), eq(exports.sourceRevision, revision), inArray(exports.state, REUSABLE)))
    .orderBy(desc(exports.createTime))
    .limit(1);
  return existing;
}

export async function insertExport(tx: Tx, values: { workspace: string; versionId: string; format: number; sourceRevision: number; bytesTotal: number }): Promise<ExportRow> {
  const [row] = await tx.insert(exports).values(values).returning();
  return row!;
}

export async function setJob(tx: Tx, exportId: string, jobId: string): Promise<ExportRow> {
  const [withJob] = await tx.update(exports).set({ jobId }).where(eq(exports.id, exportId)).returning();
  return withJob!;
}

/** The id of the model, within scope. */
export async function selectModelId(db: Database, scope: Scope, model: ModelName): Promise<string | undefined> {
  const [m] = await db
    .select({ id: models.id })
    .from(models)
    .where(and(eq(models.workspace, model.workspace), eq(models.nameKey, model.model.toLowerCase()), inScope(scope, models.workspace)));
  return m?.id;
}

/** The exports of a model (`modelId`) or of a version, a page after `after`, newest first; `key` is the page key. */
export async function selectPage(db: Database, of: { modelId: string } | { versionId: string }, expr: FilterExpr, after: string[] | undefined, limit: number) {
  const where: SQL = "modelId" in of ? eq(versions.modelId, of.modelId) : eq(exports.versionId, of.versionId);
  const created = sql`(extract(epoch from ${exports.createTime}) * 1000000)::bigint`;
  const keyset = after ? or(lt(created, sql`${after[0]}::bigint`), and(eq(created, sql`${after[0]}::bigint`), lt(exports.id, after[1]!))) : undefined;
  return db
    .select({ ...selection, key: sql<string>`${created}::text` })
    .from(exports)
    .innerJoin(versions, eq(exports.versionId, versions.id))
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(and(where, compileFilter(expr, FILTER_FIELDS), keyset))
    .orderBy(desc(created), desc(exports.id))
    .limit(limit + 1);
}

/** The newest export of the version (in the format, unless 0) that is live or SUCCEEDED. */
export async function selectLatest(db: Database, versionId: string, format: number): Promise<JoinedExportRow | undefined> {
  const [hit] = await joined(db)
    .where(and(eq(exports.versionId, versionId), inArray(exports.state, REUSABLE), format ? eq(exports.format, format) : undefined))
    .orderBy(desc(exports.createTime), desc(exports.id))
    .limit(1);
  return hit;
}

export async function markCancelled(tx: Tx, exportId: string): Promise<ExportRow> {
  const [row] = await tx
    .update(exports)
    .set({ state: ExportState.CANCELLED, endTime: sql`now()`, updateTime: sql`now()` })
    .where(eq(exports.id, exportId))
    .returning();
  return row!;
}

export async function deleteExport(tx: Tx, exportId: string): Promise<void> {
  await tx.delete(exports).where(eq(exports.id, exportId));
}
