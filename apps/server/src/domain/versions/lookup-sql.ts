// Finding versions: by name, by alias or by uid (prepared once, the read
// path is hot), the conditions other resources use to name a version, and
// the "not found" that says which part of a name is missing.
import { type Database, models, type VersionRow, versions } from "@modelreg/db";
import { and, eq, type SQL, sql } from "drizzle-orm";
import { NotFoundError } from "../shared/errors.js";
import { type ModelName, modelResourceName, type VersionRefName } from "../shared/resource-names.js";
import { inScope, type Scope } from "../shared/scope.js";
import { rowsOf, prepareRaw } from "../shared/raw-rows.js";
import { fromRaw, toVersion } from "./mapping.js";
import type { Version } from "./types.js";

/** The aliases of a version, as one subquery (a JSON array; both drivers parse it). */
export const aliasesOf = sql<string[]>`(SELECT coalesce(jsonb_agg(a.alias ORDER BY a.alias), '[]'::jsonb) FROM model_aliases a WHERE a.version_id = ${versions.id})`;
/** The same subquery over `versions v`, for the raw lookups. */
const ALIASES_OF_V = "(SELECT coalesce(jsonb_agg(a.alias ORDER BY a.alias), '[]'::jsonb) FROM model_aliases a WHERE a.version_id = v.id)";

/** What a lookup selects: the version, its model's workspace and name, its aliases. */
export const JOINED = { v: versions, workspace: models.workspace, modelName: models.name, aliases: aliasesOf } as const;

/**
 * The condition naming one model within the caller's scope: a model in
 * another workspace takes exactly the path of one that does not exist.
 */
export function modelWhere(scope: Scope, n: ModelName): SQL {
  return and(eq(models.workspace, n.workspace), eq(models.nameKey, n.model.toLowerCase()), inScope(scope, models.workspace))!;
}

/** The condition naming one version: by version id, or through an alias, within the caller's scope. Needs versions joined with models. */
export function versionRefWhere(scope: Scope, n: VersionRefName): SQL {
  const model = modelWhere(scope, n);
  if (n.kind === "version") return and(model, eq(versions.version, n.version))!;
  return and(model, sql`${versions.id} = (SELECT a.version_id FROM model_aliases a WHERE a.model_id = ${models.id} AND a.alias = ${n.alias})`)!;
}

/** The "not found" for a version reference whose model exists: the version, or the alias when one was used. */
export function refNotFound(name: string, n: VersionRefName): NotFoundError {
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

/** A version found, with its model's workspace and name, and its aliases. */
export interface Hit {
  v: VersionRow;
  workspace: string;
  modelName: string;
  aliases: string[];
}

/** The hot lookups, prepared once per database. */
export interface Lookups {
  byRef(scope: Scope, n: VersionRefName): Promise<Hit | undefined>;
  byUid(scope: Scope, uid: string): Promise<Hit | undefined>;
}

/**
 * The hot lookups, raw prepared statements mapped by fromRaw: a GetVersion
 * is one of these, and the query builder's per-column mapping of the joined
 * row cost more than the mapping itself.
 */
export function prepareLookups(db: Database): Lookups {
  const select = sql`SELECT v.*, m.name AS model_name, ${sql.raw(ALIASES_OF_V)} AS aliases FROM versions v INNER JOIN models m ON v.model_id = m.id`;
  // By name and by alias differ only in the last condition.
  const inModel = sql`m.workspace = ${sql.placeholder("workspace")} AND m.workspace = ${sql.placeholder("scope")} AND m.name_key = ${sql.placeholder("model")}`;
  const getByName = prepareRaw(db, "modelreg_get_version_by_name", sql`${select} WHERE ${inModel} AND v.version = ${sql.placeholder("version")}`);
  const getByAlias = prepareRaw(
    db,
    "modelreg_get_version_by_alias",
    sql`${select} WHERE ${inModel} AND v.id = (SELECT a.version_id FROM model_aliases a WHERE a.model_id = m.id AND a.alias = ${sql.placeholder("alias")})`,
  );
  const getByUid = prepareRaw(
    db,
    "modelreg_get_version_by_uid",
    sql`${select} WHERE v.id = ${sql.placeholder("uid")} AND (m.workspace = ${sql.placeholder("scope")} OR ${sql.placeholder("all")}::boolean)`,
  );
  const hitOf = (result: unknown): Hit | undefined => {
    const row = rowsOf<Record<string, unknown> & { model_name: string; aliases: string[] }>(result)[0];
    if (!row) return undefined;
    const v = fromRaw(row);
    return { v, workspace: v.workspace, modelName: row.model_name, aliases: row.aliases };
  };
  return {
    async byRef(scope: Scope, n: VersionRefName) {
      const common = { workspace: n.workspace, scope: scope.workspace ?? n.workspace, model: n.model.toLowerCase() };
      return hitOf(n.kind === "alias" ? await getByAlias.execute({ ...common, alias: n.alias }) : await getByName.execute({ ...common, version: n.version }));
    },
    async byUid(scope: Scope, uid: string) {
      return hitOf(await getByUid.execute({ uid: uid.toLowerCase(), scope: scope.workspace ?? "", all: scope.workspace === null }));
    },
  };
}

/** The version an earlier create with this request id made, if any. */
export async function selectByRequestId(db: Database, scope: Scope, n: ModelName, requestId: string): Promise<Version | undefined> {
  const [hit] = await db
    .select(JOINED)
    .from(versions)
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(and(modelWhere(scope, n), eq(versions.requestId, requestId)));
  return hit ? toVersion(hit.v, { workspace: hit.workspace, name: hit.modelName }, hit.aliases) : undefined;
}
