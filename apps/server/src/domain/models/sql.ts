// The queries of models. Every lookup carries the caller's scope as one more
// condition, so a name in another workspace takes exactly the path of a
// name that does not exist.
import { type Database, type ModelRow, models, type Tx } from "@modelreg/db";
import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { FilterExpr, FilterFields } from "../shared/filter/index.js";
import { compileFilter } from "../shared/filter/index.js";
import type { OrderBy } from "../shared/order-by.js";
import type { ModelName } from "../shared/resource-names.js";
import { inScope, type Scope } from "../shared/scope.js";
import type { ModelFields } from "./types.js";
import type { UpdatableField } from "./rules.js";

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

const TIME_COLUMNS = { create_time: models.createTime, update_time: models.updateTime } as const;

export function byName(scope: Scope, n: ModelName) {
  return and(eq(models.workspace, n.workspace), eq(models.nameKey, n.model.toLowerCase()), inScope(scope, models.workspace));
}

export async function selectByName(db: Database, scope: Scope, n: ModelName): Promise<ModelRow | undefined> {
  const [row] = await db.select().from(models).where(byName(scope, n));
  return row;
}

/** The row of the model, locked for a change in `tx`. */
export async function lockByName(tx: Tx, scope: Scope, n: ModelName): Promise<ModelRow | undefined> {
  const [row] = await tx.select().from(models).where(byName(scope, n)).for("update");
  return row;
}

/** The model an earlier create with this request id made, if any. */
export async function selectByRequestId(db: Database, workspace: string, requestId: string): Promise<ModelRow | undefined> {
  const [row] = await db.select().from(models).where(and(eq(models.workspace, workspace), eq(models.requestId, requestId)));
  return row;
}

export async function insertModel(tx: Tx, workspace: string, modelId: string, fields: ModelFields, requestId: string): Promise<ModelRow> {
  const [row] = await tx
    .insert(models)
    .values({ workspace, name: modelId, nameKey: modelId.toLowerCase(), description: fields.description, labels: fields.labels, requestId: requestId || null })
    .returning();
  return row!;
}

/** Sets the masked fields and moves the revision on. */
export async function updateModel(tx: Tx, id: string, mask: Set<UpdatableField>, fields: ModelFields): Promise<ModelRow> {
  const [row] = await tx
    .update(models)
    .set({
      ...(mask.has("description") ? { description: fields.description } : {}),
      ...(mask.has("labels") ? { labels: fields.labels } : {}),
      revision: sql`${models.revision} + 1`,
      updateTime: sql`now()`,
    })
    .where(eq(models.id, id))
    .returning();
  return row!;
}

/** Deletes the model; its versions, aliases and files go with it (foreign keys cascade). */
export async function deleteModel(tx: Tx, id: string): Promise<void> {
  await tx.delete(models).where(eq(models.id, id));
}

/**
 * One page of a workspace's models, one row more than `limit` when there is
 * a next page. Keyset on (column, name_key); name_key is unique in the
 * workspace. Times in whole microseconds, as PostgreSQL keeps them (a JS
 * Date would drop them). Each row carries its keyset value as text.
 */
export async function selectPage(
  db: Database,
  scope: Scope,
  q: { workspace: string; expr: FilterExpr; order: OrderBy; limit: number; after: string[] | undefined },
): Promise<{ m: ModelRow; key: string }[]> {
  const { order, after } = q;
  const dir = order.desc ? desc : asc;
  const cmp = order.desc ? sql`<` : sql`>`;
  const column =
    order.field === "name"
      ? undefined
      : order.field === "version_count"
        ? sql`${models.versionCount}::bigint`
        : sql`(extract(epoch from ${TIME_COLUMNS[order.field as keyof typeof TIME_COLUMNS]}) * 1000000)::bigint`;
  const keyset = !after ? undefined : column === undefined ? sql`${models.nameKey} ${cmp} ${after[1]}` : sql`(${column}, ${models.nameKey}) ${cmp} (${after[0]}::bigint, ${after[1]})`;
  return db
    .select({ m: models, key: column === undefined ? sql<string>`''` : sql<string>`${column}::text` })
    .from(models)
    .where(and(eq(models.workspace, q.workspace), inScope(scope, models.workspace), compileFilter(q.expr, FILTER_FIELDS), keyset))
    .orderBy(...(column === undefined ? [dir(models.nameKey)] : [dir(column), dir(models.nameKey)]))
    .limit(q.limit + 1);
}
