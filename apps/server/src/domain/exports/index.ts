// Exports: requests to pack a version into an archive, their state and their
// result. The packing itself is the `export` job (jobs/export-job.ts, over
// ./runs.ts); this module creates, reads, cancels and deletes the records,
// and queues or cancels the job in the same transaction, so a record never
// exists without its job or the other way round.
import type { Database, Tx } from "@modelreg/db";
import { VersionState } from "@modelreg/proto";
import { FailedPreconditionError, NotFoundError } from "../shared/errors.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { parseVersionRefName, versionResourceName } from "../shared/resource-names.js";
import type { JobQueue } from "../ports/job-queue.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { versionNotFound } from "../versions/index.js";
import { ALL_VERSIONS, checkCancellable, checkCreateFormat, checkLatestFormat, checkList, isLive, parseExportName } from "./rules.js";
import * as q from "./sql.js";
import { type ExportListOptions, type ExportPage, type ExportView, toExportView } from "./types.js";

export type { ArchiveResult, ExportListOptions, ExportPage, ExportView, SourceFile } from "./types.js";
export { archiveFileName, parseExportName } from "./rules.js";
export { createExportRuns, type ExportRuns } from "./runs.js";

export const EXPORT_JOB = "export";

export interface ExportsDomain {
  /** Parses an export's resource name into its version's name and its uid. */
  parseExportName: typeof parseExportName;
  /** Queues an export of a READY version, or returns the live or finished one for the same revision and format (unless `force`). */
  create(scope: Scope, parent: string, format: number, force: boolean): Promise<{ export: ExportView; created: boolean }>;
  /** One export by name. */
  get(scope: Scope, name: string): Promise<ExportView>;
  /** Exports of a version, or of every version of a model (`…/versions/-`), newest first. */
  list(scope: Scope, parent: string, opts: ExportListOptions): Promise<ExportPage>;
  /** The newest export of the version that has not failed or been cancelled. */
  latest(scope: Scope, parent: string, format: number): Promise<ExportView | undefined>;
  /** Cancels a PENDING or RUNNING export; a running job stops within seconds. */
  cancel(scope: Scope, name: string): Promise<ExportView>;
  /** Deletes the record (a live export is cancelled first); the archive goes with garbage collection once nothing refers to it. */
  delete(scope: Scope, name: string): Promise<void>;
}

export function createExportsDomain(db: Database, jobs: JobQueue): ExportsDomain {
  return {
    parseExportName,
    create: (scope, parent, format, force) => createExport(db, jobs, scope, parent, format, force),
    get: (scope, name) => byName(db, scope, name),
    list: (scope, parent, opts) => listExports(db, scope, parent, opts),
    latest: (scope, parent, format) => latestExport(db, scope, parent, format),
    cancel: (scope, name) => cancelExport(db, jobs, scope, name),
    delete: (scope, name) => deleteExport(db, jobs, scope, name),
  };
}

/** One export by name, within scope (locked when `lock`), or NotFound. */
async function byName(conn: Tx | Database, scope: Scope, name: string, lock = false): Promise<ExportView> {
  const hit = await q.selectByName(conn, scope, parseExportName("name", name), lock);
  if (!hit) throw new NotFoundError("export", name);
  return toExportView(hit);
}

/** The version a parent names (a version or an alias), within scope, or NotFound. */
async function versionOf(conn: Tx | Database, scope: Scope, parent: string, lock = false) {
  const n = parseVersionRefName("parent", parent);
  const hit = await q.selectVersion(conn, scope, n, lock);
  if (!hit) throw await versionNotFound(conn, scope, parent, n);
  return { ...hit, name: versionResourceName(hit.workspace, hit.model, hit.version) };
}

async function createExport(db: Database, jobs: JobQueue, scope: Scope, parent: string, format: number, force: boolean): Promise<{ export: ExportView; created: boolean }> {
  checkCreateFormat(format);
  const result = await db.transaction(async (tx) => {
    // The version's row lock serialises concurrent requests for it, so two never make two exports.
    const version = await versionOf(tx, scope, parent, true);
    if (version.state !== VersionState.READY)
      throw new FailedPreconditionError("VERSION_PENDING", `${version.name} is PENDING: commit its files before exporting it`, { resource: version.name });
    if (!force) {
      const existing = await q.selectReusable(tx, version.id, format, version.revision);
      if (existing) return { export: toExportView(existing), created: false };
    }
    const row = await q.insertExport(tx, { workspace: version.workspace, versionId: version.id, format, sourceRevision: version.revision, bytesTotal: Number(version.totalSize) });
    const jobId = await jobs.enqueue(EXPORT_JOB, { exportId: row.id }, { tx, maxAttempts: 3 });
    const withJob = await q.setJob(tx, row.id, jobId);
    await writeAudit(tx, scope);
    return { export: toExportView({ e: withJob, version: version.version, model: version.model, workspace: version.workspace }), created: true };
  });
  if (result.created) jobs.poke();
  return result;
}

async function listExports(db: Database, scope: Scope, parent: string, opts: ExportListOptions): Promise<ExportPage> {
  const { limit, expr, model } = checkList(parent, opts);
  let of: { modelId: string } | { versionId: string };
  if (model) {
    const modelId = await q.selectModelId(db, scope, model);
    if (!modelId) throw new NotFoundError("model", parent.slice(0, -ALL_VERSIONS.length));
    of = { modelId };
  } else of = { versionId: (await versionOf(db, scope, parent)).id };
  const fp = queryFingerprint("exports", parent, opts.filter);
  const after = decodePageToken(opts.pageToken, fp, 2);
  const rows = await q.selectPage(db, of, expr, after, limit);
  const page = pageOf(rows, limit, fp, (r) => [r.key, r.e.id]);
  return { exports: page.rows.map(toExportView), nextPageToken: page.nextPageToken };
}

async function latestExport(db: Database, scope: Scope, parent: string, format: number): Promise<ExportView | undefined> {
  checkLatestFormat(format);
  const version = await versionOf(db, scope, parent);
  const hit = await q.selectLatest(db, version.id, format);
  return hit ? toExportView(hit) : undefined;
}

async function cancelExport(db: Database, jobs: JobQueue, scope: Scope, name: string): Promise<ExportView> {
  return db.transaction(async (tx) => {
    const e = await byName(tx, scope, name, true);
    checkCancellable(name, e.row.state);
    const row = await q.markCancelled(tx, e.row.id);
    if (e.row.jobId) await jobs.cancel(e.row.jobId, tx);
    await writeAudit(tx, scope);
    return { ...e, row };
  });
}

async function deleteExport(db: Database, jobs: JobQueue, scope: Scope, name: string): Promise<void> {
  await db.transaction(async (tx) => {
    const e = await byName(tx, scope, name, true);
    if (isLive(e.row.state) && e.row.jobId) await jobs.cancel(e.row.jobId, tx);
    await q.deleteExport(tx, e.row.id);
    await writeAudit(tx, scope);
  });
}
