// Aliases of models: set (create or move) and delete. A move is one UPDATE
// of one row, so a reader resolving `model@alias` (one query, see
// versionRefWhere) finds the old version or the new one, never neither.
import { Lifecycle, Role } from "@modelreg/proto";
import { type Database, modelAliases, models, versions } from "@modelreg/db";
import { and, eq, sql } from "drizzle-orm";
import { EtagMismatchError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from "../shared/errors.js";
import { aliasesOf, type Alias } from "../models/index.js";
import { rowsOf } from "../shared/raw-rows.js";
import { ALIAS, aliasResourceName, parseModelName, versionResourceName } from "../shared/resource-names.js";
import { inScope, type Scope, writeAudit } from "../shared/scope.js";
import { parseSemver } from "../versions/semver.js";
import { Violations, collect, printable } from "../shared/validation.js";
import { toVersion, type Version } from "../versions/index.js";

/** SetAlias with expected_version found the alias elsewhere (ABORTED, like a stale etag). */
export class AliasMovedError extends EtagMismatchError {
  constructor(resource: string, current: string | undefined, expected: string) {
    super(resource, current ?? "-");
    this.message = `${resource} ${current ? `points at ${current}` : "does not exist"}, not ${expected === "-" ? "nothing" : expected} as expected_version says; read it again and retry`;
  }
}

export interface SetAliasRequest {
  model: string;
  alias: string;
  version: string;
  protected: boolean;
  /** "" = any; "-" = only if the alias does not exist yet; else the version it must point at now. */
  expectedVersion: string;
}

/** Who calls: only their role matters here. */
export interface AliasCaller {
  role: Role;
}

/** Protected aliases are for admin keys only: only they may mark one protected, move it or delete it. */
export function mayTouchProtected(caller: AliasCaller): boolean {
  return caller.role >= Role.ADMIN;
}

function checkAlias(v: Violations, field: string, alias: string): void {
  if (!ALIAS.test(alias)) v.add(field, `${alias === "" ? "is required" : `"${printable(alias)}" is not an alias`}: 1-63 lowercase letters, digits, '-' and '_', starting with a letter`);
}

export type AliasesDomain = ReturnType<typeof createAliasesDomain>;

export function createAliasesDomain(db: Database) {
  const modelWhere = (scope: Scope, workspace: string, model: string) =>
    and(eq(models.workspace, workspace), eq(models.nameKey, model.toLowerCase()), inScope(scope, models.workspace));

  return {
    async set(scope: Scope, caller: AliasCaller, req: SetAliasRequest): Promise<{ alias: Alias; version: Version }> {
      const admin = mayTouchProtected(caller);
      const v = new Violations();
      const n = collect(v, () => parseModelName("model", req.model));
      checkAlias(v, "alias", req.alias);
      if (req.version === "") v.add("version", "is required: the version identifier to point at, e.g. 3.2.0");
      else if (parseSemver(req.version).error) v.add("version", `"${printable(req.version)}" is not a version identifier: ${parseSemver(req.version).error}`);
      if (req.expectedVersion !== "" && req.expectedVersion !== "-" && parseSemver(req.expectedVersion).error)
        v.add("expected_version", `"${printable(req.expectedVersion)}" is not a version identifier, or "-" for "must not exist yet"`);
      if (!v.empty || !n) throw new InvalidArgumentError(v.list);
      if (req.protected && !admin) throw new PermissionDeniedError("only an admin key may mark an alias protected");

      return db.transaction(async (tx) => {
        const [target] = await tx
          .select({ v: versions, workspace: models.workspace, modelName: models.name, modelId: models.id })
          .from(versions)
          .innerJoin(models, eq(versions.modelId, models.id))
          .where(and(modelWhere(scope, n.workspace, n.model), eq(versions.version, req.version)));
        if (!target) {
          const [model] = await tx.select({ id: models.id }).from(models).where(modelWhere(scope, n.workspace, n.model));
          if (!model) throw new NotFoundError("model", req.model);
          throw new NotFoundError("version", versionResourceName(n.workspace, n.model, req.version));
        }
        const resource = aliasResourceName(target.workspace, target.modelName, req.alias);
        if (target.v.lifecycle === Lifecycle.ARCHIVED)
          throw new FailedPreconditionError("VERSION_ARCHIVED", `${versionResourceName(target.workspace, target.modelName, req.version)} is ARCHIVED and cannot get aliases; make it ACTIVE first`, {
            resource,
          });
        // Create or move in one statement; the WHERE of the update refuses a
        // protected alias to a non-admin and a move that was not expected.
        const expected = req.expectedVersion;
        const result = await tx.execute(sql`
          INSERT INTO ${modelAliases} (model_id, alias, version_id, protected, update_time)
          VALUES (${target.modelId}, ${req.alias}, ${target.v.id}, ${req.protected}, now())
          ON CONFLICT (model_id, alias) DO UPDATE
            SET version_id = excluded.version_id, protected = excluded.protected, update_time = now()
            WHERE (${admin} OR NOT ${modelAliases.protected})
              AND (${expected === ""} OR (${expected !== "-"} AND ${modelAliases.versionId} = (SELECT id FROM ${versions} WHERE model_id = ${target.modelId} AND version = ${expected})))
          RETURNING update_time`);
        const [row] = rowsOf<{ update_time: string | Date }>(result);
        if (!row) {
          const [current] = await tx
            .select({ protected: modelAliases.protected, version: versions.version })
            .from(modelAliases)
            .innerJoin(versions, eq(versions.id, modelAliases.versionId))
            .where(and(eq(modelAliases.modelId, target.modelId), eq(modelAliases.alias, req.alias)));
          if (current?.protected && !admin) throw new PermissionDeniedError(`${resource} is protected: only an admin key may move it`);
          throw new AliasMovedError(resource, current?.version, expected);
        }
        await writeAudit(tx, scope);
        const alias: Alias = { alias: req.alias, version: req.version, protected: req.protected, updateTime: new Date(row.update_time) };
        const all = (await aliasesOf(tx, [target.modelId])).get(target.modelId) ?? [];
        const pointing = all.filter((a) => a.version === req.version).map((a) => a.alias);
        return { alias, version: toVersion(target.v, { workspace: target.workspace, name: target.modelName }, pointing) };
      });
    },

    async delete(scope: Scope, caller: AliasCaller, model: string, alias: string): Promise<void> {
      const admin = mayTouchProtected(caller);
      const v = new Violations();
      const n = collect(v, () => parseModelName("model", model));
      checkAlias(v, "alias", alias);
      if (!v.empty || !n) throw new InvalidArgumentError(v.list);
      await db.transaction(async (tx) => {
        const [hit] = await tx
          .select({ modelId: models.id, workspace: models.workspace, modelName: models.name, protected: modelAliases.protected })
          .from(modelAliases)
          .innerJoin(models, eq(models.id, modelAliases.modelId))
          .where(and(modelWhere(scope, n.workspace, n.model), eq(modelAliases.alias, alias)))
          .for("update", { of: modelAliases });
        if (!hit) throw new NotFoundError("alias", aliasResourceName(n.workspace, n.model, alias));
        if (hit.protected && !admin) throw new PermissionDeniedError(`${aliasResourceName(hit.workspace, hit.modelName, alias)} is protected: only an admin key may delete it`);
        await tx.delete(modelAliases).where(and(eq(modelAliases.modelId, hit.modelId), eq(modelAliases.alias, alias)));
        await writeAudit(tx, scope);
      });
    },
  };
}
