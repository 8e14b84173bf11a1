// Access keys: create (secret shown once), list, revoke, rotate, and the
// server-wide admin key created on the first start of an empty database.
import { accessKeys, type AccessKeyRow, type Database } from "@modelreg/db";
import { Role } from "@modelreg/proto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { KEY_ID, type KeyMaterial } from "../ports/key-material.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import { inScope, type Scope } from "../shared/scope.js";
import { requireWorkspace } from "../workspaces/index.js";
import { checkPageSize, checkText, collect, printable, Violations } from "../shared/validation.js";


export interface AccessKey {
  name: string;
  keyId: string;
  user: string;
  role: Role;
  expireTime: Date | null;
  createTime: Date;
  revokeTime: Date | null;
  lastUsedTime: Date | null;
  description: string;
  rotatedFrom: string;
}

export interface NewAccessKey {
  accessKey: AccessKey;
  secret: string;
  token: string;
}

export interface AccessKeyFields {
  user: string;
  role: Role;
  expireTime: Date | null;
  description: string;
}

const USER = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const KEY_NAME = /^workspaces\/([a-z][a-z0-9-]{0,62})\/accessKeys\/([^/]+)$/;

function toAccessKey(row: AccessKeyRow): AccessKey {
  return {
    name: row.workspace ? `workspaces/${row.workspace}/accessKeys/${row.keyId}` : `accessKeys/${row.keyId}`,
    keyId: row.keyId,
    user: row.user,
    role: row.role as Role,
    expireTime: row.expireTime,
    createTime: row.createTime,
    revokeTime: row.revokeTime,
    lastUsedTime: row.lastUsedTime,
    description: row.description,
    rotatedFrom: row.rotatedFrom,
  };
}

function parseKeyName(name: string): { workspace: string; keyId: string } {
  const m = KEY_NAME.exec(name);
  if (!m || !KEY_ID.test(m[2]!))
    throw InvalidArgumentError.field(
      "name",
      `${name === "" ? "is required" : `"${printable(name)}" is not a valid name`}: expected workspaces/{workspace}/accessKeys/{key_id}, e.g. workspaces/default/accessKeys/AKJ3Q4M7V2ZC6N8PXW`,
    );
  return { workspace: m[1]!, keyId: m[2]! };
}

async function mint(db: Pick<Database, "insert">, keys: KeyMaterial, values: { workspace: string | null; user: string; role: Role; expireTime: Date | null; description: string; rotatedFrom?: string }): Promise<NewAccessKey> {
  const keyId = keys.newKeyId();
  const secret = keys.newSecret();
  const [row] = await db
    .insert(accessKeys)
    .values({ keyId, secretHash: await keys.hashSecret(secret), ...values, rotatedFrom: values.rotatedFrom ?? "" })
    .returning();
  return { accessKey: toAccessKey(row!), secret, token: `${keyId}.${secret}` };
}

export type AccessKeysDomain = ReturnType<typeof createAccessKeysDomain>;

export function createAccessKeysDomain(db: Database, keys: KeyMaterial, now: () => number = Date.now) {
  const find = async (scope: Scope, name: string) => {
    const { workspace, keyId } = parseKeyName(name);
    const [row] = await db
      .select()
      .from(accessKeys)
      .where(and(eq(accessKeys.keyId, keyId), eq(accessKeys.workspace, workspace), inScope(scope, accessKeys.workspace)));
    if (!row) throw new NotFoundError("access key", name);
    return row;
  };

  return {
    async create(scope: Scope, parent: string, f: AccessKeyFields): Promise<NewAccessKey> {
      const v = new Violations();
      const ws = collect(v, () => parseWorkspaceName("parent", parent));
      if (!USER.test(f.user))
        v.add("access_key.user", `${f.user === "" ? "is required" : `"${printable(f.user)}" is not valid`}: 1-64 letters, digits, '.', '_', '-' and '@', starting with a letter or digit`);
      if (![Role.VIEWER, Role.EDITOR, Role.ADMIN].includes(f.role)) v.add("access_key.role", "must be ROLE_VIEWER, ROLE_EDITOR or ROLE_ADMIN");
      if (f.expireTime && f.expireTime.getTime() <= now()) v.add("access_key.expire_time", `${f.expireTime.toISOString()} is not in the future`);
      checkText(v, "access_key.description", f.description, 1000);
      if (!v.empty || !ws) throw new InvalidArgumentError(v.list);
      await requireWorkspace(db, scope, ws.workspace);
      return mint(db, keys, { workspace: ws.workspace, user: f.user, role: f.role, expireTime: f.expireTime, description: f.description });
    },

    async list(scope: Scope, parent: string, pageSize: number, pageToken: string, showRevoked: boolean): Promise<{ accessKeys: AccessKey[]; nextPageToken: string }> {
      const v = new Violations();
      const ws = collect(v, () => parseWorkspaceName("parent", parent));
      const limit = checkPageSize(v, pageSize);
      if (!v.empty || !ws) throw new InvalidArgumentError(v.list);
      const fp = queryFingerprint("access-keys", ws.workspace, String(showRevoked));
      const after = decodePageToken(pageToken, fp, 2);
      const rows = await db
        .select()
        .from(accessKeys)
        .where(
          and(
            eq(accessKeys.workspace, ws.workspace),
            inScope(scope, accessKeys.workspace),
            showRevoked ? undefined : isNull(accessKeys.revokeTime),
            after ? sql`(${accessKeys.createTime}, ${accessKeys.keyId}) < (${after[0]}::timestamptz, ${after[1]})` : undefined,
          ),
        )
        .orderBy(desc(accessKeys.createTime), desc(accessKeys.keyId))
        .limit(limit + 1);
      if (rows.length === 0 && !after) await requireWorkspace(db, scope, ws.workspace);
      const page = pageOf(rows, limit, fp, (k) => [k.createTime.toISOString(), k.keyId]);
      return { accessKeys: page.rows.map(toAccessKey), nextPageToken: page.nextPageToken };
    },

    async revoke(scope: Scope, name: string): Promise<AccessKey> {
      const row = await find(scope, name);
      const [revoked] = await db
        .update(accessKeys)
        .set({ revokeTime: sql`now()` })
        .where(and(eq(accessKeys.keyId, row.keyId), isNull(accessKeys.revokeTime)))
        .returning();
      if (!revoked) throw new FailedPreconditionError("KEY_REVOKED", `${name} is already revoked`);
      return toAccessKey(revoked);
    },

    async rotate(scope: Scope, name: string): Promise<NewAccessKey> {
      return db.transaction(async (tx) => {
        const { workspace, keyId } = parseKeyName(name);
        const [row] = await tx
          .select()
          .from(accessKeys)
          .where(and(eq(accessKeys.keyId, keyId), eq(accessKeys.workspace, workspace), inScope(scope, accessKeys.workspace)))
          .for("update");
        if (!row) throw new NotFoundError("access key", name);
        if (row.revokeTime) throw new FailedPreconditionError("KEY_REVOKED", `${name} is revoked; create a new key instead`);
        await tx.update(accessKeys).set({ revokeTime: sql`now()` }).where(eq(accessKeys.keyId, row.keyId));
        return mint(tx, keys, { workspace: row.workspace, user: row.user, role: row.role as Role, expireTime: row.expireTime, description: row.description, rotatedFrom: row.keyId });
      });
    },
  };
}

/**
 * On the first start of an empty database, creates the server-wide admin
 * key and returns it (once); undefined when one exists already. Replicas
 * starting together serialise on an advisory lock, so exactly one creates it.
 */
export async function ensureServerAdminKey(db: Database, keys: KeyMaterial): Promise<NewAccessKey | undefined> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(7162736572766572)`);
    const [existing] = await tx.select({ keyId: accessKeys.keyId }).from(accessKeys).where(isNull(accessKeys.workspace)).limit(1);
    if (existing) return undefined;
    return mint(tx, keys, { workspace: null, user: "admin", role: Role.ADMIN, expireTime: null, description: "server-wide admin key, created at first start" });
  });
}
