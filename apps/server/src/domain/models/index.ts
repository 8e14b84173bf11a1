// Models: create (idempotent with request_id), get, list (filter, order),
// update, delete. Each model is answered with its aliases.
import type { Database } from "@modelreg/db";
import { aliasesOf } from "../aliases/sql.js";
import { isForeignKeyViolation, isUniqueViolation } from "../shared/db-errors.js";
import { AlreadyExistsError, NotFoundError } from "../shared/errors.js";
import { checkEtag, etagOf } from "../shared/etag.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { modelResourceName, parseModelName } from "../shared/resource-names.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { requireWorkspace } from "../workspaces/index.js";
import { checkCreate, checkDelete, checkList, checkUpdate } from "./rules.js";
import * as q from "./sql.js";
import { type Model, type ModelFields, type ModelListOptions, type ModelPage, toModel } from "./types.js";

export type { Model, ModelFields, ModelListOptions, ModelPage } from "./types.js";
export { toModel } from "./types.js";

export interface ModelsDomain {
  /** Creates a model; a retry with the same request id answers the first create's model. */
  create(scope: Scope, parent: string, modelId: string, fields: ModelFields, requestId?: string): Promise<Model>;
  /** The model by resource name. */
  get(scope: Scope, name: string): Promise<Model>;
  /** One page of a workspace's models. */
  list(scope: Scope, parent: string, opts: ModelListOptions): Promise<ModelPage>;
  /** Changes the fields in the mask, if the etag (when given) is current. */
  update(scope: Scope, name: string, etag: string, paths: string[], fields: ModelFields): Promise<Model>;
  /** Deletes a model; one with versions only with force. */
  delete(scope: Scope, name: string, etag: string, force: boolean): Promise<void>;
}

export function createModelsDomain(db: Database): ModelsDomain {
  return {
    create: (scope, parent, modelId, fields, requestId = "") => createModel(db, scope, parent, modelId, fields, requestId),
    get: (scope, name) => getModel(db, scope, name),
    list: (scope, parent, opts) => listModels(db, scope, parent, opts),
    update: (scope, name, etag, paths, fields) => updateModel(db, scope, name, etag, paths, fields),
    delete: (scope, name, etag, force) => deleteModel(db, scope, name, etag, force),
  };
}

async function withAliases(db: Pick<Database, "select">, row: Parameters<typeof toModel>[0]): Promise<Model> {
  return toModel(row, (await aliasesOf(db, [row.id])).get(row.id));
}

async function createModel(db: Database, scope: Scope, parent: string, modelId: string, fields: ModelFields, requestId: string): Promise<Model> {
  const { workspace } = checkCreate(parent, modelId, fields, requestId);
  await requireWorkspace(db, scope, workspace);
  const earlier = async () => {
    const row = requestId ? await q.selectByRequestId(db, workspace, requestId) : undefined;
    return row && (await withAliases(db, row));
  };
  const retried = await earlier();
  if (retried) return retried;
  try {
    return await db.transaction(async (tx) => {
      const row = await q.insertModel(tx, workspace, modelId, fields, requestId);
      await writeAudit(tx, scope);
      return toModel(row);
    });
  } catch (e) {
    if (isUniqueViolation(e)) {
      // A concurrent retry with the same request id may have won the race.
      const first = await earlier();
      if (first) return first;
      throw new AlreadyExistsError("model", modelResourceName(workspace, modelId));
    }
    if (isForeignKeyViolation(e)) throw new NotFoundError("workspace", parent);
    throw e;
  }
}

async function getModel(db: Database, scope: Scope, name: string): Promise<Model> {
  const row = await q.selectByName(db, scope, parseModelName("name", name));
  if (!row) throw new NotFoundError("model", name);
  return withAliases(db, row);
}

async function listModels(db: Database, scope: Scope, parent: string, opts: ModelListOptions): Promise<ModelPage> {
  const { workspace, limit, filter, expr, order } = checkList(parent, opts);
  const fp = queryFingerprint("models", workspace, filter, `${order.field}.${order.desc}`);
  const after = decodePageToken(opts.pageToken, fp, 2);
  const rows = await q.selectPage(db, scope, { workspace, expr, order, limit, after });
  // An empty answer must not hide a missing workspace.
  if (rows.length === 0 && !after) await requireWorkspace(db, scope, workspace);
  const page = pageOf(rows, limit, fp, (r) => [r.key, r.m.nameKey]);
  const aliases = await aliasesOf(db, page.rows.map((r) => r.m.id));
  return { models: page.rows.map((r) => toModel(r.m, aliases.get(r.m.id))), nextPageToken: page.nextPageToken };
}

async function updateModel(db: Database, scope: Scope, name: string, etag: string, paths: string[], fields: ModelFields): Promise<Model> {
  const n = parseModelName("model.name", name);
  const mask = checkUpdate(paths, fields);
  return db.transaction(async (tx) => {
    const row = await q.lockByName(tx, scope, n);
    if (!row) throw new NotFoundError("model", name);
    checkEtag(modelResourceName(row.workspace, row.name), etag, etagOf(row.id, row.revision));
    const updated = await q.updateModel(tx, row.id, mask, fields);
    await writeAudit(tx, scope);
    return withAliases(tx, updated);
  });
}

async function deleteModel(db: Database, scope: Scope, name: string, etag: string, force: boolean): Promise<void> {
  const n = parseModelName("name", name);
  await db.transaction(async (tx) => {
    const row = await q.lockByName(tx, scope, n);
    if (!row) throw new NotFoundError("model", name);
    const resource = modelResourceName(row.workspace, row.name);
    checkEtag(resource, etag, etagOf(row.id, row.revision));
    checkDelete(resource, row.versionCount, force);
    await q.deleteModel(tx, row.id);
    await writeAudit(tx, scope);
  });
}
