// Exports: requests to pack a version into an archive, their state and their
// result. The packing itself is the `export` job (jobs/export-job.ts); this
// module creates, reads, cancels and deletes the records, and queues or
// cancels the job in the same transaction, so a record never exists without
// its job or the other way round.
import { type Database, exports, type ExportRow, models, versions, type Tx } from "@modelreg/db";
import { ExportFormatSchema, ExportState, ExportStateSchema, VersionState } from "@modelreg/proto";
import { and, desc, eq, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import { enumChoices, enumCodes, enumName } from "../shared/enum-codes.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { compileFilter, type FilterFields, parseFilter } from "../shared/filter/index.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { parseModelName, parseVersionName, parseVersionRefName, versionResourceName } from "../shared/resource-names.js";
import type { JobQueue } from "../ports/job-queue.js";
import { inScope, type Scope, writeAudit } from "../shared/scope.js";
import { checkPageSize, collect, Violations } from "../shared/validation.js";
import { versionNotFound, versionRefWhere } from "../versions/index.js";

export const EXPORT_JOB = "export";

const LIVE = [ExportState.PENDING, ExportState.RUNNING];
const FORMATS = new Set(Object.values(enumCodes(ExportFormatSchema)));
const FORMAT_CHOICES = enumChoices(ExportFormatSchema);

/** The filterable fields of ListExports (stated on ListExportsRequest.filter). */
const FILTER_FIELDS: FilterFields = {
  state: { kind: "enumCode", column: exports.state, codes: enumCodes(ExportStateSchema) },
  format: { kind: "enumCode", column: exports.format, codes: enumCodes(ExportFormatSchema) },
  create_time: { kind: "timestamp", column: exports.createTime },
};

/** An export record with the names around it. */
export interface ExportView {
  row: ExportRow;
  /** `workspaces/{w}/models/{m}/versions/{v}/exports/{uid}` */
  name: string;
  /** The version's resource name. */
  version: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXPORT_FORM = "workspaces/{workspace}/models/{model}/versions/{version}/exports/{export}";

/** Parses an export's resource name into its version's name and its uid. */
export function parseExportName(field: string, value: string): { version: ReturnType<typeof parseVersionName>; id: string } {
  const parts = value.split("/");
  if (parts.length !== 8 || parts[6] !== "exports") {
    const shown = value === "" ? "is required" : `"${value.slice(0, 120)}" is not a valid name`;
    throw InvalidArgumentError.field(field, `${shown}: expected ${EXPORT_FORM}`);
  }
  const version = parseVersionName(field, parts.slice(0, 6).join("/"));
  if (!UUID.test(parts[7]!)) throw InvalidArgumentError.field(field, `"${parts[7]!.slice(0, 40)}" is not an export id (a UUID): expected ${EXPORT_FORM}`);
  return { version, id: parts[7]!.toLowerCase() };
}

const selection = { e: exports, version: versions.version, model: models.name, workspace: models.workspace };

function viewOf(r: { e: ExportRow; version: string; model: string; workspace: string }): ExportView {
  const version = versionResourceName(r.workspace, r.model, r.version);
  return { row: r.e, version, name: `${version}/exports/${r.e.id}` };
}

const joined = (q: Tx | Database) => q.select(selection).from(exports).innerJoin(versions, eq(exports.versionId, versions.id)).innerJoin(models, eq(versions.modelId, models.id));

export type ExportsDomain = ReturnType<typeof createExportsDomain>;

export function createExportsDomain(db: Database, jobs: JobQueue) {
  /** One export by name, within scope (locked when `lock`), or NotFound. */
  async function byName(q: Tx | Database, scope: Scope, name: string, lock = false): Promise<ExportView> {
    const n = parseExportName("name", name);
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
    if (!hit) throw new NotFoundError("export", name);
    return viewOf(hit);
  }

  /** The version a parent names (a version or an alias), within scope, or NotFound. */
  async function versionOf(q: Tx | Database, scope: Scope, parent: string, lock = false) {
    const n = parseVersionRefName("parent", parent);
    const base = q
      .select({ id: versions.id, state: versions.state, revision: versions.revision, totalSize: versions.totalSize, version: versions.version, model: models.name, workspace: models.workspace })
      .from(versions)
      .innerJoin(models, eq(versions.modelId, models.id))
      .where(versionRefWhere(scope, n));
    const [hit] = await (lock ? base.for("update", { of: versions }) : base);
    if (!hit) throw await versionNotFound(q, scope, parent, n);
    return { ...hit, name: versionResourceName(hit.workspace, hit.model, hit.version) };
  }

  return {
    parseExportName,

    /** Queues an export of a READY version, or returns the live or finished one for the same revision and format (unless `force`). */
    async create(scope: Scope, parent: string, format: number, force: boolean): Promise<{ export: ExportView; created: boolean }> {
      const v = new Violations();
      if (!FORMATS.has(format)) v.add("format", `${format === 0 ? "is required" : `${format} is not a format`}: use ${FORMAT_CHOICES}`);
      if (!v.empty) throw new InvalidArgumentError(v.list);
      const result = await db.transaction(async (tx) => {
        // The version's row lock serialises concurrent requests for it, so two never make two exports.
        const version = await versionOf(tx, scope, parent, true);
        if (version.state !== VersionState.READY)
          throw new FailedPreconditionError("VERSION_PENDING", `${version.name} is PENDING: commit its files before exporting it`, { resource: version.name });
        if (!force) {
          const [existing] = await joined(tx)
            .where(
              and(
                eq(exports.versionId, version.id),
                eq(exports.format, format),
                eq(exports.sourceRevision, version.revision),
                inArray(exports.state, [...LIVE, ExportState.SUCCEEDED]),
              ),
            )
            .orderBy(desc(exports.createTime))
            .limit(1);
          if (existing) return { export: viewOf(existing), created: false };
        }
        const [row] = await tx
          .insert(exports)
          .values({ workspace: version.workspace, versionId: version.id, format, sourceRevision: version.revision, bytesTotal: Number(version.totalSize) })
          .returning();
        const jobId = await jobs.enqueue(EXPORT_JOB, { exportId: row!.id }, { tx, maxAttempts: 3 });
        const [withJob] = await tx.update(exports).set({ jobId }).where(eq(exports.id, row!.id)).returning();
        await writeAudit(tx, scope);
        return { export: viewOf({ e: withJob!, version: version.version, model: version.model, workspace: version.workspace }), created: true };
      });
      if (result.created) jobs.poke();
      return result;
    },

    get: (scope: Scope, name: string) => byName(db, scope, name),

    /** Exports of a version, or of every version of a model (`…/versions/-`), newest first. */
    async list(scope: Scope, parent: string, opts: { pageSize: number; pageToken: string; filter: string }): Promise<{ exports: ExportView[]; nextPageToken: string }> {
      const v = new Violations();
      const limit = checkPageSize(v, opts.pageSize);
      const expr = collect(v, () => parseFilter(opts.filter));
      const allVersions = parent.endsWith("/versions/-");
      const model = allVersions ? collect(v, () => parseModelName("parent", parent.slice(0, -"/versions/-".length))) : undefined;
      if (!v.empty || !expr) throw new InvalidArgumentError(v.list);
      let where: SQL;
      if (model) {
        const [m] = await db
          .select({ id: models.id })
          .from(models)
          .where(and(eq(models.workspace, model.workspace), eq(models.nameKey, model.model.toLowerCase()), inScope(scope, models.workspace)));
        if (!m) throw new NotFoundError("model", parent.slice(0, -"/versions/-".length));
        where = eq(versions.modelId, m.id);
      } else where = eq(exports.versionId, (await versionOf(db, scope, parent)).id);
      const fp = queryFingerprint("exports", parent, opts.filter);
      const after = decodePageToken(opts.pageToken, fp, 2);
      const created = sql`(extract(epoch from ${exports.createTime}) * 1000000)::bigint`;
      const keyset = after ? or(lt(created, sql`${after[0]}::bigint`), and(eq(created, sql`${after[0]}::bigint`), lt(exports.id, after[1]!))) : undefined;
      const rows = await db
        .select({ ...selection, key: sql<string>`${created}::text` })
        .from(exports)
        .innerJoin(versions, eq(exports.versionId, versions.id))
        .innerJoin(models, eq(versions.modelId, models.id))
        .where(and(where, compileFilter(expr, FILTER_FIELDS), keyset))
        .orderBy(desc(created), desc(exports.id))
        .limit(limit + 1);
      const page = pageOf(rows, limit, fp, (r) => [r.key, r.e.id]);
      return { exports: page.rows.map(viewOf), nextPageToken: page.nextPageToken };
    },

    /** The newest export of the version that has not failed or been cancelled. */
    async latest(scope: Scope, parent: string, format: number): Promise<ExportView | undefined> {
      if (format !== 0 && !FORMATS.has(format)) throw InvalidArgumentError.field("format", `${format} is not a format: use ${FORMAT_CHOICES}, or leave it unset for any`);
      const version = await versionOf(db, scope, parent);
      const [hit] = await joined(db)
        .where(and(eq(exports.versionId, version.id), inArray(exports.state, [...LIVE, ExportState.SUCCEEDED]), format ? eq(exports.format, format) : undefined))
        .orderBy(desc(exports.createTime), desc(exports.id))
        .limit(1);
      return hit ? viewOf(hit) : undefined;
    },

    /** Cancels a PENDING or RUNNING export; a running job stops within seconds. */
    async cancel(scope: Scope, name: string): Promise<ExportView> {
      return db.transaction(async (tx) => {
        const e = await byName(tx, scope, name, true);
        if (!(LIVE as number[]).includes(e.row.state))
          throw new FailedPreconditionError(
            "EXPORT_FINISHED",
            `${name} is ${enumName(ExportStateSchema, e.row.state)} already; only a PENDING or RUNNING export can be cancelled`,
            { resource: name },
          );
        const [row] = await tx
          .update(exports)
          .set({ state: ExportState.CANCELLED, endTime: sql`now()`, updateTime: sql`now()` })
          .where(eq(exports.id, e.row.id))
          .returning();
        if (e.row.jobId) await jobs.cancel(e.row.jobId, tx);
        await writeAudit(tx, scope);
        return { ...e, row: row! };
      });
    },

    /** Deletes the record (a live export is cancelled first); the archive goes with garbage collection once nothing refers to it. */
    async delete(scope: Scope, name: string): Promise<void> {
      await db.transaction(async (tx) => {
        const e = await byName(tx, scope, name, true);
        if ((LIVE as number[]).includes(e.row.state) && e.row.jobId) await jobs.cancel(e.row.jobId, tx);
        await tx.delete(exports).where(eq(exports.id, e.row.id));
        await writeAudit(tx, scope);
      });
    },
  };
}
