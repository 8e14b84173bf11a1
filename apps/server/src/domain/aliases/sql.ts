// The queries of aliases. A move is one UPDATE of one row, so a reader
// resolving `model@alias` (one query, see versions' versionRefWhere) finds
// the old version or the new one, never neither.
import { type Database, modelAliases, models, type Tx, type VersionRow, versions } from "@modelreg/db";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { rowsOf } from "../shared/raw-rows.js";
import type { ModelName } from "../shared/resource-names.js";
import { inScope, type Scope } from "../shared/scope.js";
import type { Alias } from "./types.js";

const modelWhere = (scope: Scope, n: ModelName) => and(eq(models.workspace, n.workspace), eq(models.nameKey, n.model.toLowerCase()), inScope(scope, models.workspace));

/** The aliases of each model, by model id. */
export async function aliasesOf(db: Pick<Database, "select">, modelIds: string[]): Promise<Map<string, Alias[]>> {
  const out = new Map<string, Alias[]>();
  if (modelIds.length === 0) return out;
  const rows = await db
    .select({ modelId: modelAliases.modelId, alias: modelAliases.alias, version: versions.version, protected: modelAliases.protected, updateTime: modelAliases.updateTime })
    .from(modelAliases)
    .innerJoin(versions, eq(versions.id, modelAliases.versionId))
    .where(inArray(modelAliases.modelId, modelIds))
    .orderBy(asc(modelAliases.alias));
  for (const { modelId, ...a } of rows) out.set(modelId, [...(out.get(modelId) ?? []), a]);
  return out;
}

/** The version an alias is to point at, with its model. */
export async function selectTarget(
  tx: Tx,
  scope: Scope,
  n: ModelName,
  version: string,
): Promise<{ v: VersionRow; workspace: string; modelName: string; modelId: string } | undefined> {
  const [target] = await tx
    .select({ v: versions, workspace: models.workspace, modelName: models.name, modelId: models.id })
    .from(versions)
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(and(modelWhere(scope, n), eq(versions.version, version)));
  return target;
}

export async function modelExists(tx: Tx | Database, scope: Scope, n: ModelName): Promise<boolean> {
  const [model] = await tx.select({ id: models.id }).from(models).where(modelWhere(scope, n));
  return model !== undefined;
}

/**
 * Creates or moves the alias in one statement; the WHERE of the update
 * refuses a protected alias to a non-admin and a move that was not
 * expected. Answers the new update time, or undefined when refused.
 */
export async function upsertAlias(
  tx: Tx,
  a: { modelId: string; alias: string; versionId: string; protected: boolean; admin: boolean; expected: string },
): Promise<Date | undefined> {
  const result = await tx.execute(sql`
    INSERT INTO ${modelAliases} (model_id, alias, version_id, protected, update_time)
    VALUES (${a.modelId}, ${a.alias}, ${a.versionId}, ${a.protected}, now())
    ON CONFLICT (model_id, alias) DO UPDATE
      SET version_id = excluded.version_id, protected = excluded.protected, update_time = now()
      WHERE (${a.admin} OR NOT ${modelAliases.protected})
        AND (${a.expected === ""} OR (${a.expected !== "-"} AND ${modelAliases.versionId} = (SELECT id FROM ${versions} WHERE model_id = ${a.modelId} AND version = ${a.expected})))
    RETURNING update_time`);
  const [row] = rowsOf<{ update_time: string | Date }>(result);
  return row ? new Date(row.update_time) : undefined;
}

/** Where the alias points now, and whether it is protected (after a refused upsert). */
export async function selectCurrent(tx: Tx, modelId: string, alias: string): Promise<{ protected: boolean; version: string } | undefined> {
  const [current] = await tx
    .select({ protected: modelAliases.protected, version: versions.version })
    .from(modelAliases)
    .innerJoin(versions, eq(versions.id, modelAliases.versionId))
    .where(and(eq(modelAliases.modelId, modelId), eq(modelAliases.alias, alias)));
  return current;
}

/** The alias with its model, locked for deletion. */
export async function lockAlias(tx: Tx, scope: Scope, n: ModelName, alias: string) {
  const [hit] = await tx
    .select({ modelId: models.id, workspace: models.workspace, modelName: models.name, protected: modelAliases.protected })
    .from(modelAliases)
    .innerJoin(models, eq(models.id, modelAliases.modelId))
    .where(and(modelWhere(scope, n), eq(modelAliases.alias, alias)))
    .for("update", { of: modelAliases });
  return hit;
}

export async function deleteAlias(tx: Tx, modelId: string, alias: string): Promise<void> {
  await tx.delete(modelAliases).where(and(eq(modelAliases.modelId, modelId), eq(modelAliases.alias, alias)));
}
