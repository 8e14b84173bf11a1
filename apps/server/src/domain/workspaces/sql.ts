// The queries of workspaces. A workspace outside the caller's scope is
// looked up with the scope as one more condition, so it is not found.
import { accessKeys, type Database, models, type Tx, workspaces, type WorkspaceRow } from "@modelreg/db";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { inScope, type Scope } from "../shared/scope.js";

export async function insertIfMissing(db: Database, name: string, description: string): Promise<void> {
  await db.insert(workspaces).values({ name, description }).onConflictDoNothing();
}

export async function insertWorkspace(db: Database, name: string, description: string): Promise<WorkspaceRow> {
  const [row] = await db.insert(workspaces).values({ name, description }).returning();
  return row!;
}

/** The workspace, if the caller's scope includes it. */
export async function selectInScope(db: Database, scope: Scope, workspace: string): Promise<WorkspaceRow | undefined> {
  const [row] = await db
    .select()
    .from(workspaces)
    .where(and(eq(workspaces.name, workspace), inScope(scope, workspaces.name)));
  return row;
}

/** A page of the workspaces in scope after the name `after`, by name. */
export async function selectPage(db: Database, scope: Scope, after: string[] | undefined, limit: number): Promise<WorkspaceRow[]> {
  return db
    .select()
    .from(workspaces)
    .where(and(inScope(scope, workspaces.name), after ? gt(workspaces.name, after[0]!) : undefined))
    .orderBy(asc(workspaces.name))
    .limit(limit + 1);
}

export async function updateDescription(db: Database, workspace: string, description: string): Promise<WorkspaceRow> {
  const [updated] = await db
    .update(workspaces)
    .set({ description, updateTime: sql`now()` })
    .where(eq(workspaces.name, workspace))
    .returning();
  return updated!;
}

export async function countModels(tx: Tx, workspace: string): Promise<number> {
  const [held] = await tx.select({ n: sql<number>`count(*)::int` }).from(models).where(eq(models.workspace, workspace));
  return held?.n ?? 0;
}

/** Deletes the workspace with its access keys. */
export async function deleteWithKeys(tx: Tx, workspace: string): Promise<void> {
  await tx.delete(accessKeys).where(eq(accessKeys.workspace, workspace));
  await tx.delete(workspaces).where(eq(workspaces.name, workspace));
}
