// Workspaces (tenants): create, get, list, update, delete. The `default`
// workspace is created at start so a single-team install needs no setup.
import { accessKeys, models, workspaces, type Database, type WorkspaceRow } from "@modelreg/db";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { isForeignKeyViolation, isUniqueViolation } from "../shared/db-errors.js";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import { inScope, type Scope } from "../shared/scope.js";
import { resolveUpdateMask } from "../shared/update-mask.js";
import { checkCommonFields, checkPageSize, printable, Violations, WORKSPACE_ID } from "../shared/validation.js";

export const DEFAULT_WORKSPACE = "default";

export async function ensureDefaultWorkspace(db: Database): Promise<void> {
  await db.insert(workspaces).values({ name: DEFAULT_WORKSPACE, description: "The workspace every install starts with." }).onConflictDoNothing();
}

export interface Workspace {
  name: string;
  uid: string;
  description: string;
  createTime: Date;
  updateTime: Date;
}

function toWorkspace(row: WorkspaceRow): Workspace {
  return { name: `workspaces/${row.name}`, uid: row.uid, description: row.description, createTime: row.createTime, updateTime: row.updateTime };
}

export type WorkspacesDomain = ReturnType<typeof createWorkspacesDomain>;

/**
 * The workspace, if it exists and the caller's scope includes it; otherwise
 * NOT_FOUND, the same answer either way.
 */
export async function requireWorkspace(db: Database, scope: Scope, workspace: string): Promise<WorkspaceRow> {
  const [row] = await db
    .select()
    .from(workspaces)
    .where(and(eq(workspaces.name, workspace), inScope(scope, workspaces.name)));
  if (!row) throw new NotFoundError("workspace", `workspaces/${workspace}`);
  return row;
}

export function createWorkspacesDomain(db: Database) {
  const find = (scope: Scope, name: string) => requireWorkspace(db, scope, parseWorkspaceName("name", name).workspace);

  /** Deletes a workspace that holds no models, with its access keys. */
  async function deleteEmpty(name: string): Promise<void> {
    await db.transaction(async (tx) => {
      const [held] = await tx.select({ n: sql<number>`count(*)::int` }).from(models).where(eq(models.workspace, name));
      const n = held?.n ?? 0;
      if (n > 0)
        throw new FailedPreconditionError("WORKSPACE_NOT_EMPTY", `workspaces/${name} still holds ${n} model(s); delete them first`, { model_count: String(n) });
      await tx.delete(accessKeys).where(eq(accessKeys.workspace, name));
      await tx.delete(workspaces).where(eq(workspaces.name, name));
    });
  }

  return {
    async create(workspaceId: string, description: string): Promise<Workspace> {
      const v = new Violations();
      if (!WORKSPACE_ID.test(workspaceId))
        v.add("workspace_id", `"${printable(workspaceId)}" is not a valid workspace id: use 1-63 lowercase letters, digits and '-', starting with a letter`);
      checkCommonFields(v, "workspace", { description });
      if (!v.empty) throw new InvalidArgumentError(v.list);
      try {
        const [row] = await db.insert(workspaces).values({ name: workspaceId, description }).returning();
        return toWorkspace(row!);
      } catch (e) {
        if (isUniqueViolation(e)) throw new AlreadyExistsError("workspace", `workspaces/${workspaceId}`);
        throw e;
      }
    },

    async get(scope: Scope, name: string): Promise<Workspace> {
      return toWorkspace(await find(scope, name));
    },

    async list(scope: Scope, pageSize: number, pageToken: string): Promise<{ workspaces: Workspace[]; nextPageToken: string }> {
      const v = new Violations();
      const limit = checkPageSize(v, pageSize);
      if (!v.empty) throw new InvalidArgumentError(v.list);
      const fp = queryFingerprint("workspaces", scope.workspace ?? "*");
      const after = decodePageToken(pageToken, fp, 1);
      const rows = await db
        .select()
        .from(workspaces)
        .where(and(inScope(scope, workspaces.name), after ? gt(workspaces.name, after[0]!) : undefined))
        .orderBy(asc(workspaces.name))
        .limit(limit + 1);
      const page = pageOf(rows, limit, fp, (w) => [w.name]);
      return { workspaces: page.rows.map(toWorkspace), nextPageToken: page.nextPageToken };
    },

    async update(scope: Scope, name: string, paths: string[], description: string): Promise<Workspace> {
      const mask = resolveUpdateMask(paths, ["description"] as const);
      const v = new Violations();
      if (mask.has("description")) checkCommonFields(v, "workspace", { description });
      if (!v.empty) throw new InvalidArgumentError(v.list);
      const row = await find(scope, name);
      const [updated] = await db
        .update(workspaces)
        .set({ description, updateTime: sql`now()` })
        .where(eq(workspaces.name, row.name))
        .returning();
      return toWorkspace(updated!);
    },

    async delete(scope: Scope, name: string): Promise<void> {
      const row = await find(scope, name);
      if (row.name === DEFAULT_WORKSPACE) throw new FailedPreconditionError("DEFAULT_WORKSPACE", "the default workspace cannot be deleted");
      try {
        await deleteEmpty(row.name);
      } catch (e) {
        // A model created after the count but before the delete trips the foreign key.
        if (isForeignKeyViolation(e)) throw new FailedPreconditionError("WORKSPACE_NOT_EMPTY", `workspaces/${row.name} still holds models; delete them first`);
        throw e;
      }
    },
  };
}
