// The queries of access keys. Lookups by name carry the caller's scope as
// one more condition, so a key in another workspace is simply not found.
import { accessKeys, type AccessKeyRow, type Database, type Tx } from "@modelreg/db";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { inScope, type Scope } from "../shared/scope.js";
import type { KeyCredentials } from "./types.js";

export type NewKeyValues = Omit<typeof accessKeys.$inferInsert, "createTime" | "revokeTime" | "lastUsedTime">;

export async function insertKey(q: Pick<Database, "insert">, values: NewKeyValues): Promise<AccessKeyRow> {
  const [row] = await q.insert(accessKeys).values(values).returning();
  return row!;
}

/** The key of the workspace, within scope (locked for a change in a transaction when `lock`). */
export async function selectByName(q: Tx | Database, scope: Scope, workspace: string, keyId: string, lock = false): Promise<AccessKeyRow | undefined> {
  const base = q
    .select()
    .from(accessKeys)
    .where(and(eq(accessKeys.keyId, keyId), eq(accessKeys.workspace, workspace), inScope(scope, accessKeys.workspace)));
  const [row] = await (lock ? base.for("update") : base);
  return row;
}

/** A page of the workspace's keys after `after` (create time, key id), newest first. */
export async function selectPage(db: Database, scope: Scope, workspace: string, showRevoked: boolean, after: string[] | undefined, limit: number): Promise<AccessKeyRow[]> {
  return db
    .select()
    .from(accessKeys)
    .where(
      and(
        eq(accessKeys.workspace, workspace),
        inScope(scope, accessKeys.workspace),
        showRevoked ? undefined : isNull(accessKeys.revokeTime),
        after ? sql`(${accessKeys.createTime}, ${accessKeys.keyId}) < (${after[0]}::timestamptz, ${after[1]})` : undefined,
      ),
    )
    .orderBy(desc(accessKeys.createTime), desc(accessKeys.keyId))
    .limit(limit + 1);
}

/** Revokes the key if it is not revoked yet; undefined when it was. */
export async function revokeIfLive(db: Database, keyId: string): Promise<AccessKeyRow | undefined> {
  const [revoked] = await db
    .update(accessKeys)
    .set({ revokeTime: sql`now()` })
    .where(and(eq(accessKeys.keyId, keyId), isNull(accessKeys.revokeTime)))
    .returning();
  return revoked;
}

export async function revoke(tx: Tx, keyId: string): Promise<void> {
  await tx.update(accessKeys).set({ revokeTime: sql`now()` }).where(eq(accessKeys.keyId, keyId));
}

/** Serialises the creation of the server-wide admin key across replicas (transaction-scoped). */
export async function lockServerKey(tx: Tx): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(7162736572766572)`);
}

/** Whether a server-wide key (one of no workspace) exists. */
export async function hasServerKey(tx: Tx): Promise<boolean> {
  const [existing] = await tx.select({ keyId: accessKeys.keyId }).from(accessKeys).where(isNull(accessKeys.workspace)).limit(1);
  return existing !== undefined;
}

export async function selectCredentials(db: Database, keyId: string): Promise<KeyCredentials | undefined> {
  const [row] = await db
    .select({
      workspace: accessKeys.workspace,
      user: accessKeys.user,
      role: accessKeys.role,
      secretHash: accessKeys.secretHash,
      expireTime: accessKeys.expireTime,
      revokeTime: accessKeys.revokeTime,
    })
    .from(accessKeys)
    .where(eq(accessKeys.keyId, keyId));
  return row;
}

/** Records the key's use, to the minute. */
export async function markUsed(db: Database, keyId: string): Promise<void> {
  await db
    .update(accessKeys)
    .set({ lastUsedTime: sql`date_trunc('minute', now())` })
    .where(eq(accessKeys.keyId, keyId));
}

/** Replaces the key's secret hash, only if it is still `from` (replicas upgrading it at once write it once). */
export async function replaceSecretHash(db: Database, keyId: string, from: string, to: string): Promise<void> {
  await db
    .update(accessKeys)
    .set({ secretHash: to })
    .where(and(eq(accessKeys.keyId, keyId), eq(accessKeys.secretHash, from)));
}
