// Aliases of models: set (create or move) and delete. Who may touch a
// protected alias is decided here from the caller's role (rules.ts).
import type { Database, Tx } from "@modelreg/db";
import { Lifecycle } from "@modelreg/proto";
import { isForeignKeyViolation } from "../shared/db-errors.js";
import { EtagMismatchError, FailedPreconditionError, NotFoundError, PermissionDeniedError } from "../shared/errors.js";
import { aliasResourceName, type ModelName, versionResourceName } from "../shared/resource-names.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { toVersion, type Version } from "../versions/index.js";
import { checkDelete, checkSet, mayTouchProtected } from "./rules.js";
import * as q from "./sql.js";
import type { Alias, AliasCaller, SetAliasRequest } from "./types.js";

export type { Alias, AliasCaller, SetAliasRequest } from "./types.js";
export { mayTouchProtected } from "./rules.js";
export { aliasesOf } from "./sql.js";

export interface AliasesDomain {
  /** Creates or moves an alias; answers it and the version it now points at. */
  set(scope: Scope, caller: AliasCaller, req: SetAliasRequest): Promise<{ alias: Alias; version: Version }>;
  /** Deletes an alias. */
  delete(scope: Scope, caller: AliasCaller, model: string, alias: string): Promise<void>;
}

/** SetAlias with expected_version found the alias elsewhere (ABORTED, like a stale etag). */
export class AliasMovedError extends EtagMismatchError {
  constructor(resource: string, current: string | undefined, expected: string) {
    super(resource, current ?? "-");
    this.message = `${resource} ${current ? `points at ${current}` : "does not exist"}, not ${expected === "-" ? "nothing" : expected} as expected_version says; read it again and retry`;
  }
}

export function createAliasesDomain(db: Database): AliasesDomain {
  return {
    set: (scope, caller, req) => setAlias(db, scope, caller, req),
    delete: (scope, caller, model, alias) => deleteAlias(db, scope, caller, model, alias),
  };
}

async function setAlias(db: Database, scope: Scope, caller: AliasCaller, req: SetAliasRequest): Promise<{ alias: Alias; version: Version }> {
  const admin = mayTouchProtected(caller);
  const n = checkSet(caller, req);
  try {
    return await pointAlias(db, scope, admin, n, req);
  } catch (e) {
    // The version (or its model) was deleted after it was read: the alias's
    // foreign keys refuse it, and the answer is what a later call would get.
    if (isForeignKeyViolation(e)) throw await targetNotFound(db, scope, n, req);
    throw e;
  }
}

/** NotFound for the model, or else for the version the alias was to point at. */
async function targetNotFound(db: Tx | Database, scope: Scope, n: ModelName, req: SetAliasRequest): Promise<NotFoundError> {
  if (!(await q.modelExists(db, scope, n))) return new NotFoundError("model", req.model);
  return new NotFoundError("version", versionResourceName(n.workspace, n.model, req.version));
}

async function pointAlias(db: Database, scope: Scope, admin: boolean, n: ModelName, req: SetAliasRequest): Promise<{ alias: Alias; version: Version }> {
  return db.transaction(async (tx) => {
    const target = await q.selectTarget(tx, scope, n, req.version);
    if (!target) throw await targetNotFound(tx, scope, n, req);
    const resource = aliasResourceName(target.workspace, target.modelName, req.alias);
    if (target.v.lifecycle === Lifecycle.ARCHIVED)
      throw new FailedPreconditionError("VERSION_ARCHIVED", `${versionResourceName(target.workspace, target.modelName, req.version)} is ARCHIVED and cannot get aliases; make it ACTIVE first`, {
        resource,
      });
    const expected = req.expectedVersion;
    const updateTime = await q.upsertAlias(tx, { modelId: target.modelId, alias: req.alias, versionId: target.v.id, protected: req.protected, admin, expected });
    if (!updateTime) {
      const current = await q.selectCurrent(tx, target.modelId, req.alias);
      if (current?.protected && !admin) throw new PermissionDeniedError(`${resource} is protected: only an admin key may move it`);
      throw new AliasMovedError(resource, current?.version, expected);
    }
    await writeAudit(tx, scope);
    const alias: Alias = { alias: req.alias, version: req.version, protected: req.protected, updateTime };
    const all = (await q.aliasesOf(tx, [target.modelId])).get(target.modelId) ?? [];
    const pointing = all.filter((a) => a.version === req.version).map((a) => a.alias);
    return { alias, version: toVersion(target.v, { workspace: target.workspace, name: target.modelName }, pointing) };
  });
}

async function deleteAlias(db: Database, scope: Scope, caller: AliasCaller, model: string, alias: string): Promise<void> {
  const admin = mayTouchProtected(caller);
  const n = checkDelete(model, alias);
  await db.transaction(async (tx) => {
    const hit = await q.lockAlias(tx, scope, n, alias);
    if (!hit) throw new NotFoundError("alias", aliasResourceName(n.workspace, n.model, alias));
    if (hit.protected && !admin) throw new PermissionDeniedError(`${aliasResourceName(hit.workspace, hit.modelName, alias)} is protected: only an admin key may delete it`);
    await q.deleteAlias(tx, hit.modelId, alias);
    await writeAudit(tx, scope);
  });
}
