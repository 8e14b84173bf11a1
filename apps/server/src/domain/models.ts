// Models: create, get, list, update, delete.
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { models, type Database, type ModelRow } from "@modelreg/db";
import { AlreadyExistsError, EtagMismatchError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "./errors.js";
import { etagOf } from "./etag.js";
import { isForeignKeyViolation, isUniqueViolation } from "./db-errors.js";
import { decodePageToken, pageOf, queryFingerprint } from "./page-token.js";
import { modelResourceName, parseModelName, parseWorkspaceName, type ModelName } from "./resource-names.js";
import { checkCommonFields, checkModelId, checkPageSize, collect, Violations } from "./validation.js";
import { resolveUpdateMask } from "./update-mask.js";
import { inScope, writeAudit, type Scope } from "./scope.js";
import { requireWorkspace } from "./workspaces.js";

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
}

/** The user-settable fields of a model. */
export interface ModelFields {
  description: string;
  labels: Record<string, string>;
}

const UPDATABLE = ["description", "labels"] as const;

export function toModel(row: ModelRow): Model {
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
  };
}

export type ModelsDomain = ReturnType<typeof createModelsDomain>;

export function createModelsDomain(db: Database) {
  // Every lookup carries the caller's scope as one more condition, so a name
  // in another workspace takes exactly the path of a name that does not exist.
  const byName = (scope: Scope, n: ModelName) =>
    and(eq(models.workspace, n.workspace), eq(models.nameKey, n.model.toLowerCase()), inScope(scope, models.workspace));


  return {
    async create(scope: Scope, parent: string, modelId: string, fields: ModelFields): Promise<Model> {
      const v = new Violations();
      const workspace = collect(v, () => parseWorkspaceName("parent", parent))?.workspace ?? "";
      checkModelId(v, "model_id", modelId);
      checkCommonFields(v, "model", fields);
      if (!v.empty) throw new InvalidArgumentError(v.list);
      await requireWorkspace(db, scope, workspace);
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx
            .insert(models)
            .values({ workspace, name: modelId, nameKey: modelId.toLowerCase(), description: fields.description, labels: fields.labels })
            .returning();
          await writeAudit(tx, scope);
          return toModel(row!);
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new AlreadyExistsError("model", modelResourceName(workspace, modelId));
        if (isForeignKeyViolation(e)) throw new NotFoundError("workspace", parent);
        throw e;
      }
    },

    async get(scope: Scope, name: string): Promise<Model> {
      const n = parseModelName("name", name);
      const [row] = await db.select().from(models).where(byName(scope, n));
      if (!row) throw new NotFoundError("model", name);
      return toModel(row);
    },

    async list(scope: Scope, parent: string, pageSize: number, pageToken: string): Promise<{ models: Model[]; nextPageToken: string }> {
      const v = new Violations();
      const { workspace } = parseWorkspaceName("parent", parent);
      const limit = checkPageSize(v, pageSize);
      if (!v.empty) throw new InvalidArgumentError(v.list);
      const fp = queryFingerprint("models", workspace);
      const after = decodePageToken(pageToken, fp, 1);
      const rows = await db
        .select()
        .from(models)
        .where(and(eq(models.workspace, workspace), inScope(scope, models.workspace), after ? gt(models.nameKey, after[0]!) : undefined))
        .orderBy(asc(models.nameKey))
        .limit(limit + 1);
      if (rows.length === 0 && !after) await requireWorkspace(db, scope, workspace);
      const page = pageOf(rows, limit, fp, (m) => [m.nameKey]);
      return { models: page.rows.map(toModel), nextPageToken: page.nextPageToken };
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
        return toModel(updated!);
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
