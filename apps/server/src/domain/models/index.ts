// Models: create (idempotent with request_id), get, list (filter, order),
// update, delete. Each model is answered with its aliases.
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { modelAliases, models, versions, type Database, type ModelRow } from "@modelreg/db";
import { AlreadyExistsError, EtagMismatchError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { etagOf } from "../shared/etag.js";
import { isForeignKeyViolation, isUniqueViolation } from "../shared/db-errors.js";
import { compileFilter, type FilterFields, parseFilter } from "../shared/filter/index.js";
import { parseOrderBy } from "../shared/order-by.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { modelResourceName, parseModelName, parseWorkspaceName, type ModelName } from "../shared/resource-names.js";
import { checkCommonFields, checkModelId, checkPageSize, collect, Violations } from "../shared/validation.js";
import { resolveUpdateMask } from "../shared/update-mask.js";
import { inScope, writeAudit, type Scope } from "../shared/scope.js";
import { requireWorkspace } from "../workspaces/index.js";

export interface Model {
  uid: string;
  workspace: string;
  /** The model's name (last segment of its resource name). */
  id: string;
  name: string;
  description: string;
  labels: Record<string, string>;
  createTime: Date;
  updateTime: Date;
  etag: string;
  versionCount: number;
  latestVersion: string;
  aliases: Alias[];
}

export interface Alias {
  alias: string;
  /** The version identifier it points at. */
  version: string;
  protected: boolean;
  updateTime: Date;
}

/** The user-settable fields of a model. */
export interface ModelFields {
  description: string;
  labels: Record<string, string>;
}

const UPDATABLE = ["description", "labels"] as const;

export function toModel(row: ModelRow, aliases: Alias[] = []): Model {
  return {
    uid: row.id,
    workspace: row.workspace,
    id: row.name,
    name: modelResourceName(row.workspace, row.name),
    description: row.description,
    labels: row.labels,
    createTime: row.createTime,
    updateTime: row.updateTime,
    etag: etagOf(row.id, row.revision),
    versionCount: row.versionCount,
    latestVersion: row.latestVersion,
    aliases,
  };
}

const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The filterable fields of ListModels (stated on ListModelsRequest.filter). */
const FILTER_FIELDS: FilterFields = {
  name: { kind: "string", column: models.name },
  description: { kind: "string", column: models.description },
  latest_version: { kind: "string", column: models.latestVersion },
  version_count: { kind: "number", column: models.versionCount },
  labels: { kind: "map", column: models.labels, valueKind: "string" },
  create_time: { kind: "timestamp", column: models.createTime },
  update_time: { kind: "timestamp", column: models.updateTime },
};

const ORDER_COLUMNS = { create_time: models.createTime, update_time: models.updateTime } as const;

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

export type ModelsDomain = ReturnType<typeof createModelsDomain>;

export function createModelsDomain(db: Database) {
  // Every lookup carries the caller's scope as one more condition, so a name
  // in another workspace takes exactly the path of a name that does not exist.
  const byName = (scope: Scope, n: ModelName) =>
    and(eq(models.workspace, n.workspace), eq(models.nameKey, n.model.toLowerCase()), inScope(scope, models.workspace));


  return {
    async create(scope: Scope, parent: string, modelId: string, fields: ModelFields, requestId = ""): Promise<Model> {
      const v = new Violations();
      const workspace = collect(v, () => parseWorkspaceName("parent", parent))?.workspace ?? "";
      checkModelId(v, "model_id", modelId);
      checkCommonFields(v, "model", fields);
      if (requestId !== "" && !REQUEST_ID.test(requestId)) v.add("request_id", "is not a request id: 1-64 letters, digits, '-' and '_' (a UUID is a good choice)");
      if (!v.empty) throw new InvalidArgumentError(v.list);
      await requireWorkspace(db, scope, workspace);
      const earlier = async () => {
        if (!requestId) return undefined;
        const [row] = await db.select().from(models).where(and(eq(models.workspace, workspace), eq(models.requestId, requestId)));
        return row ? toModel(row, (await aliasesOf(db, [row.id])).get(row.id)) : undefined;
      };
      const retried = await earlier();
      if (retried) return retried;
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx
            .insert(models)
            .values({ workspace, name: modelId, nameKey: modelId.toLowerCase(), description: fields.description, labels: fields.labels, requestId: requestId || null })
            .returning();
          await writeAudit(tx, scope);
          return toModel(row!);
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
    },

    async get(scope: Scope, name: string): Promise<Model> {
      const n = parseModelName("name", name);
      const [row] = await db.select().from(models).where(byName(scope, n));
      if (!row) throw new NotFoundError("model", name);
      return toModel(row, (await aliasesOf(db, [row.id])).get(row.id));
    },

    async list(scope: Scope, parent: string, opts: { pageSize: number; pageToken: string; filter?: string; orderBy?: string }): Promise<{ models: Model[]; nextPageToken: string }> {
      const v = new Violations();
      const workspace = collect(v, () => parseWorkspaceName("parent", parent))?.workspace;
      const limit = checkPageSize(v, opts.pageSize);
      const filterText = opts.filter ?? "";
      const expr = collect(v, () => parseFilter(filterText));
      const order = collect(v, () => parseOrderBy(opts.orderBy ?? "", ["name", "create_time", "update_time", "version_count"], [], { field: "name", desc: false }));
      if (!v.empty || !workspace || !expr || !order) throw new InvalidArgumentError(v.list);
      const fp = queryFingerprint("models", workspace, filterText, `${order.field}.${order.desc}`);
      const after = decodePageToken(opts.pageToken, fp, 2);
      const dir = order.desc ? desc : asc;
      const cmp = order.desc ? sql`<` : sql`>`;
      // Keyset on (column, name_key); name_key is unique in the workspace.
      // Times in whole microseconds, as PostgreSQL keeps them (a JS Date would drop them).
      const column =
        order.field === "name"
          ? undefined
          : order.field === "version_count"
            ? sql`${models.versionCount}::bigint`
            : sql`(extract(epoch from ${ORDER_COLUMNS[order.field as "create_time" | "update_time"]}) * 1000000)::bigint`;
      const keyset = !after ? undefined : column === undefined ? sql`${models.nameKey} ${cmp} ${after[1]}` : sql`(${column}, ${models.nameKey}) ${cmp} (${after[0]}::bigint, ${after[1]})`;
      const rows = await db
        .select({ m: models, key: column === undefined ? sql<string>`''` : sql<string>`${column}::text` })
        .from(models)
        .where(and(eq(models.workspace, workspace), inScope(scope, models.workspace), compileFilter(expr, FILTER_FIELDS), keyset))
        .orderBy(...(column === undefined ? [dir(models.nameKey)] : [dir(column), dir(models.nameKey)]))
        .limit(limit + 1);
      if (rows.length === 0 && !after) await requireWorkspace(db, scope, workspace);
      const page = pageOf(rows, limit, fp, (r) => [r.key, r.m.nameKey]);
      const aliases = await aliasesOf(db, page.rows.map((r) => r.m.id));
      return { models: page.rows.map((r) => toModel(r.m, aliases.get(r.m.id))), nextPageToken: page.nextPageToken };
    },

    async update(scope: Scope, name: string, etag: string, paths: string[], fields: ModelFields): Promise<Model> {
      const n = parseModelName("model.name", name);
      const mask = resolveUpdateMask(paths, UPDATABLE);
      const v = new Violations();
      checkCommonFields(v, "model", {
        description: mask.has("description") ? fields.description : undefined,
        labels: mask.has("labels") ? fields.labels : undefined,
      });
      if (!v.empty) throw new InvalidArgumentError(v.list);
      return db.transaction(async (tx) => {
        const [row] = await tx.select().from(models).where(byName(scope, n)).for("update");
        if (!row) throw new NotFoundError("model", name);
        const current = etagOf(row.id, row.revision);
        if (etag !== "" && etag !== current) throw new EtagMismatchError(modelResourceName(row.workspace, row.name), current);
        const [updated] = await tx
          .update(models)
          .set({
            ...(mask.has("description") ? { description: fields.description } : {}),
            ...(mask.has("labels") ? { labels: fields.labels } : {}),
            revision: sql`${models.revision} + 1`,
            updateTime: sql`now()`,
          })
          .where(eq(models.id, row.id))
          .returning();
        await writeAudit(tx, scope);
        return toModel(updated!, (await aliasesOf(tx, [updated!.id])).get(updated!.id));
      });
    },

    async delete(scope: Scope, name: string, etag: string, force: boolean): Promise<void> {
      const n = parseModelName("name", name);
      await db.transaction(async (tx) => {
        const [row] = await tx.select().from(models).where(byName(scope, n)).for("update");
        if (!row) throw new NotFoundError("model", name);
        const current = etagOf(row.id, row.revision);
        const resource = modelResourceName(row.workspace, row.name);
        if (etag !== "" && etag !== current) throw new EtagMismatchError(resource, current);
        if (row.versionCount > 0 && !force)
          throw new FailedPreconditionError(
            "MODEL_HAS_VERSIONS",
            `${resource} still has ${row.versionCount} version(s); delete them first or pass force to delete them with the model`,
            { resource, version_count: String(row.versionCount) },
          );
        await tx.delete(models).where(eq(models.id, row.id));
        await writeAudit(tx, scope);
      });
    },
  };
}
