// Versions: create (race-free auto-numbering, idempotent with request_id),
// get (by name, uid or alias), list (filter, order, keyset pages within a
// model or across a workspace), update (etag, update mask), delete.
import { type Database, versionMetrics, versions } from "@modelreg/db";
import { Lifecycle } from "@modelreg/proto";
import { and, eq, type SQL } from "drizzle-orm";
import { isUniqueViolation } from "../shared/db-errors.js";
import { AlreadyExistsError, NotFoundError } from "../shared/errors.js";
import { checkEtag, etagOf } from "../shared/etag.js";
import { compileFilter } from "../shared/filter/index.js";
import { decodePageToken, encodePageToken, queryFingerprint } from "../shared/page-token.js";
import { type ModelName, modelResourceName, parseVersionRefName, versionResourceName } from "../shared/resource-names.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { parseSemver } from "../shared/semver.js";
import { requireWorkspace } from "../workspaces/index.js";
import * as change from "./change-sql.js";
import { insertNamed, lockModelForCreate, type NumberedCreate, prepareNumberedCreate } from "./create-sql.js";
import { type Lookups, modelWhere, prepareLookups, refNotFound, selectByRequestId, versionNotFound } from "./lookup-sql.js";
import { fromListRow, toVersion } from "./mapping.js";
import { joinMetadata } from "./metadata.js";
import { FILTER_FIELDS, MODEL_FILTER_FIELDS, pageByMetric, pageBySemver, pageBySeq, type RawPage, selectListModel } from "./page-sql.js";
import { checkArchivable, checkCreate, checkList, checkUid, checkUpdate, type ListQuery, mentions, mergeMetadata } from "./rules.js";
import { type Lineage, type ListOptions, NO_LINEAGE, type Version, type VersionFields, type VersionPage } from "./types.js";

export type { Lineage, ListOptions, Version, VersionFields, VersionPage } from "./types.js";
export { NO_LINEAGE } from "./types.js";
export { toVersion } from "./mapping.js";
export { versionNotFound, versionRefWhere } from "./lookup-sql.js";
export { createVersionWithFiles, type VersionWithFiles } from "./create-with-files.js";
export type { VersionMetadata } from "./metadata.js";

export interface VersionsDomain {
  /** Creates a version, auto-numbered when versionId is ""; a retry with the same request id answers the first create's version. */
  create(scope: Scope, parent: string, versionId: string, fields: VersionFields, lineage?: Lineage, requestId?: string): Promise<Version>;
  /** The version by resource name (a version id or `@alias`), or by uid. */
  get(scope: Scope, ref: { name: string } | { uid: string }): Promise<Version>;
  /** One page of the versions of a model, or of a workspace (`models/-`). */
  list(scope: Scope, parent: string, opts: ListOptions): Promise<VersionPage>;
  /** Changes the fields in the mask, if the etag (when given) is current. */
  update(scope: Scope, name: string, etag: string, paths: string[], fields: VersionFields): Promise<Version>;
  /** Deletes a version, if the etag (when given) is current. */
  delete(scope: Scope, name: string, etag: string): Promise<void>;
}

/** What the operations share: the database and the statements prepared on it. */
interface Context {
  db: Database;
  lookups: Lookups;
  numbered: NumberedCreate;
}

export function createVersionsDomain(db: Database): VersionsDomain {
  const ctx: Context = { db, lookups: prepareLookups(db), numbered: prepareNumberedCreate(db) };
  return {
    create: (scope, parent, versionId, fields, lineage = NO_LINEAGE, requestId = "") => createVersion(ctx, scope, parent, versionId, fields, lineage, requestId),
    get: (scope, ref) => getVersion(ctx, scope, ref),
    list: (scope, parent, opts) => listVersions(ctx, scope, parent, opts),
    update: (scope, name, etag, paths, fields) => updateVersion(ctx, scope, name, etag, paths, fields),
    delete: (scope, name, etag) => deleteVersion(ctx, scope, name, etag),
  };
}

async function createVersion(ctx: Context, scope: Scope, parent: string, versionId: string, input: VersionFields, lineage: Lineage, requestId: string): Promise<Version> {
  const { model: n, fields } = checkCreate(parent, versionId, input, lineage, requestId);
  if (requestId) {
    const earlier = await selectByRequestId(ctx.db, scope, n, requestId);
    if (earlier) return earlier;
  }
  if (versionId !== "") return createNamed(ctx, scope, n, versionId, fields, lineage, requestId);
  try {
    return await ctx.numbered.execute(scope, n, fields, lineage, requestId);
  } catch (e) {
    // Only the request id can collide here: a concurrent retry created it first.
    const earlier = requestId && isUniqueViolation(e) ? await selectByRequestId(ctx.db, scope, n, requestId) : undefined;
    if (earlier) return earlier;
    throw e;
  }
}

/** Create with an explicit version id: lock the model, insert, move "latest" and auto-numbering up if it is higher. */
async function createNamed(ctx: Context, scope: Scope, n: ModelName, versionId: string, fields: VersionFields, lineage: Lineage, requestId: string): Promise<Version> {
  const sortKey = parseSemver(versionId).sortKey!;
  let attempted = versionResourceName(n.workspace, n.model, versionId);
  try {
    return await ctx.db.transaction(async (tx) => {
      const m = await lockModelForCreate(tx, scope, n);
      if (!m) throw new NotFoundError("model", modelResourceName(n.workspace, n.model));
      attempted = versionResourceName(m.workspace, m.name, versionId);
      const row = await insertNamed(tx, m, { versionId, sortKey, fields, lineage, requestId });
      await writeAudit(tx, scope);
      return toVersion(row, m);
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    // A concurrent retry with the same request id may have won the race.
    const earlier = requestId ? await selectByRequestId(ctx.db, scope, n, requestId) : undefined;
    if (earlier) return earlier;
    throw new AlreadyExistsError("version", attempted);
  }
}

async function getVersion(ctx: Context, scope: Scope, ref: { name: string } | { uid: string }): Promise<Version> {
  if ("uid" in ref) {
    checkUid(ref.uid);
    const hit = await ctx.lookups.byUid(scope, ref.uid);
    if (!hit) throw new NotFoundError("version", ref.uid, `version with uid ${ref.uid}`);
    return toVersion(hit.v, { workspace: hit.workspace, name: hit.modelName }, hit.aliases);
  }
  const n = parseVersionRefName("name", ref.name);
  const hit = await ctx.lookups.byRef(scope, n);
  if (!hit) throw await versionNotFound(ctx.db, scope, ref.name, n);
  return toVersion(hit.v, { workspace: hit.workspace, name: hit.modelName }, hit.aliases);
}

async function listVersions(ctx: Context, scope: Scope, parent: string, opts: ListOptions): Promise<VersionPage> {
  const q = checkList(parent, opts);
  const { model: n, workspace, limit, order } = q;
  const where = await listScope(ctx.db, scope, parent, q);
  const fp = queryFingerprint("versions", parent.toLowerCase(), q.filter, `${order.field}.${order.key ?? ""}.${order.desc}`);
  const after = decodePageToken(opts.pageToken, fp, 3);
  const page: RawPage =
    order.field === "metrics"
      ? await pageByMetric(ctx.db, { base: where.base, scopeCond: where.metricScope, model: where.model, metric: order.key!, descending: order.desc }, after, limit)
      : order.field === "version"
        ? await pageBySemver(ctx.db, where.base, order.desc, after, limit)
        : await pageBySeq(ctx.db, where.base, order.desc, after, limit, order.field === "create_time" ? "seq" : "update_time");
  // An empty answer must not hide a missing workspace.
  if (!n && page.rows.length === 0 && !after) await requireWorkspace(ctx.db, scope, workspace);
  // Keys are [phase, value, seq]: the phase and value only mean something for a metric order.
  return {
    versions: page.rows.slice(0, limit).map(fromListRow),
    nextPageToken: page.rows.length > limit ? encodePageToken(fp, page.keys[limit - 1]!) : "",
  };
}

/** Where a list looks: one model, or the workspace; for the metric index too. Archived versions only when the filter asks about lifecycle. */
async function listScope(db: Database, scope: Scope, parent: string, q: ListQuery): Promise<{ base: SQL | undefined; metricScope: SQL; model: { id: string; versionCount: number } | undefined }> {
  const condition = compileFilter(q.expr, q.model ? MODEL_FILTER_FIELDS : FILTER_FIELDS);
  const active = mentions(q.expr, "lifecycle") ? undefined : eq(versions.lifecycle, Lifecycle.ACTIVE);
  if (q.model) {
    const m = await selectListModel(db, modelWhere(scope, q.model));
    if (!m) throw new NotFoundError("model", parent);
    return { base: and(eq(versions.modelId, m.id), condition, active), metricScope: eq(versionMetrics.modelId, m.id), model: m };
  }
  if (scope.workspace !== null && scope.workspace !== q.workspace) throw new NotFoundError("workspace", `workspaces/${q.workspace}`);
  return { base: and(eq(versions.workspace, q.workspace), condition, active), metricScope: eq(versionMetrics.workspace, q.workspace), model: undefined };
}

async function updateVersion(ctx: Context, scope: Scope, name: string, etag: string, paths: string[], fields: VersionFields): Promise<Version> {
  const n = parseVersionRefName("version.name", name);
  const u = checkUpdate(paths, fields);
  return ctx.db.transaction(async (tx) => {
    const hit = await change.lockVersion(tx, scope, n);
    if (!hit) throw await versionNotFound(tx, scope, name, n);
    const resource = versionResourceName(hit.workspace, hit.modelName, hit.v.version);
    checkEtag(resource, etag, etagOf(hit.v.id, hit.v.revision));
    checkArchivable(resource, u.mask.has("lifecycle") ? fields.lifecycle : 0, hit.aliases);
    const metadata = u.metadataMask.length ? mergeMetadata(joinMetadata(hit.v), u) : undefined;
    const row = await change.updateVersion(tx, hit.v.id, { mask: u.mask, fields, metadata });
    await writeAudit(tx, scope);
    return toVersion(row, { workspace: hit.workspace, name: hit.modelName }, hit.aliases);
  });
}

async function deleteVersion(ctx: Context, scope: Scope, name: string, etag: string): Promise<void> {
  const ref = parseVersionRefName("name", name);
  await ctx.db.transaction(async (tx) => {
    const m = await change.lockModel(tx, scope, ref);
    if (!m) throw new NotFoundError("model", modelResourceName(ref.workspace, ref.model));
    const row = await change.selectInModel(tx, scope, m.id, ref);
    if (!row) throw refNotFound(name, ref);
    checkEtag(versionResourceName(m.workspace, m.name, row.version), etag, etagOf(row.id, row.revision));
    await change.deleteVersion(tx, m, row);
    await writeAudit(tx, scope);
  });
}
