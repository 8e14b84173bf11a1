// Access keys: create (secret shown once), list, revoke, rotate, the
// server-wide admin key created on the first start of an empty database,
// and what the authenticator (auth/authenticator.ts) reads and records of a
// key it is shown.
import type { Database } from "@modelreg/db";
import { Role } from "@modelreg/proto";
import type { KeyMaterial } from "../ports/key-material.js";
import { isForeignKeyViolation } from "../shared/db-errors.js";
import { FailedPreconditionError, NotFoundError } from "../shared/errors.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import type { Scope } from "../shared/scope.js";
import { requireWorkspace } from "../workspaces/index.js";
import { checkCreate, checkList, checkRotatable, parseKeyName } from "./rules.js";
import * as q from "./sql.js";
import { type AccessKey, type AccessKeyFields, type AccessKeyPage, type KeyCredentials, type NewAccessKey, toAccessKey } from "./types.js";

export type { AccessKey, AccessKeyFields, AccessKeyPage, KeyCredentials, NewAccessKey } from "./types.js";
export { isExpired } from "./rules.js";

export interface AccessKeysDomain {
  /** Creates a key in a workspace; its secret is in the answer and nowhere else. */
  create(scope: Scope, parent: string, f: AccessKeyFields): Promise<NewAccessKey>;
  /** One page of a workspace's keys, newest first; revoked ones only when asked. */
  list(scope: Scope, parent: string, pageSize: number, pageToken: string, showRevoked: boolean): Promise<AccessKeyPage>;
  /** Revokes a key; a revoked one is refused. */
  revoke(scope: Scope, name: string): Promise<AccessKey>;
  /** Revokes a key and makes its successor, with the same user, role, expiry and description. */
  rotate(scope: Scope, name: string): Promise<NewAccessKey>;
  /** What authenticating the key needs of it; undefined for a key that does not exist. */
  credentials(keyId: string): Promise<KeyCredentials | undefined>;
  /** Records that the key was used (now, to the minute). */
  markUsed(keyId: string): Promise<void>;
  /** Replaces what is kept of the key's secret (a hash of an earlier scheme), unless it changed meanwhile. */
  upgradeSecretHash(keyId: string, from: string, to: string): Promise<void>;
}

export function createAccessKeysDomain(db: Database, keys: KeyMaterial, now: () => number = Date.now): AccessKeysDomain {
  return {
    create: (scope, parent, f) => createKey(db, keys, scope, parent, f, now()),
    list: (scope, parent, pageSize, pageToken, showRevoked) => listKeys(db, scope, parent, pageSize, pageToken, showRevoked),
    revoke: (scope, name) => revokeKey(db, scope, name),
    rotate: (scope, name) => rotateKey(db, keys, scope, name),
    credentials: (keyId) => q.selectCredentials(db, keyId),
    markUsed: (keyId) => q.markUsed(db, keyId),
    upgradeSecretHash: (keyId, from, to) => q.replaceSecretHash(db, keyId, from, to),
  };
}

async function mint(db: Pick<Database, "insert">, keys: KeyMaterial, values: { workspace: string | null; user: string; role: Role; expireTime: Date | null; description: string; rotatedFrom?: string }): Promise<NewAccessKey> {
  const keyId = keys.newKeyId();
  const secret = keys.newSecret();
  const secretHash = await keys.hashSecret(secret);
  try {
    const row = await q.insertKey(db, { keyId, secretHash, ...values, rotatedFrom: values.rotatedFrom ?? "" });
    return { accessKey: toAccessKey(row), secret, token: `${keyId}.${secret}` };
  } catch (e) {
    // The workspace was deleted after it was read (the hash takes a while):
    // its foreign key refuses the key, and the answer is what a later call would get.
    if (values.workspace !== null && isForeignKeyViolation(e)) throw new NotFoundError("workspace", `workspaces/${values.workspace}`);
    throw e;
  }
}

async function createKey(db: Database, keys: KeyMaterial, scope: Scope, parent: string, f: AccessKeyFields, now: number): Promise<NewAccessKey> {
  const { workspace } = checkCreate(parent, f, now);
  await requireWorkspace(db, scope, workspace);
  return mint(db, keys, { workspace, user: f.user, role: f.role, expireTime: f.expireTime, description: f.description });
}

async function listKeys(db: Database, scope: Scope, parent: string, pageSize: number, pageToken: string, showRevoked: boolean): Promise<AccessKeyPage> {
  const { workspace, limit } = checkList(parent, pageSize);
  const fp = queryFingerprint("access-keys", workspace, String(showRevoked));
  const after = decodePageToken(pageToken, fp, 2);
  const rows = await q.selectPage(db, scope, workspace, showRevoked, after, limit);
  if (rows.length === 0 && !after) await requireWorkspace(db, scope, workspace);
  const page = pageOf(rows, limit, fp, (k) => [k.createTime.toISOString(), k.keyId]);
  return { accessKeys: page.rows.map(toAccessKey), nextPageToken: page.nextPageToken };
}

async function revokeKey(db: Database, scope: Scope, name: string): Promise<AccessKey> {
  const { workspace, keyId } = parseKeyName(name);
  const row = await q.selectByName(db, scope, workspace, keyId);
  if (!row) throw new NotFoundError("access key", name);
  const revoked = await q.revokeIfLive(db, row.keyId);
  if (!revoked) throw new FailedPreconditionError("KEY_REVOKED", `${name} is already revoked`);
  return toAccessKey(revoked);
}

async function rotateKey(db: Database, keys: KeyMaterial, scope: Scope, name: string): Promise<NewAccessKey> {
  return db.transaction(async (tx) => {
    const { workspace, keyId } = parseKeyName(name);
    const row = await q.selectByName(tx, scope, workspace, keyId, true);
    if (!row) throw new NotFoundError("access key", name);
    checkRotatable(name, row.revokeTime);
    await q.revoke(tx, row.keyId);
    return mint(tx, keys, { workspace: row.workspace, user: row.user, role: row.role as Role, expireTime: row.expireTime, description: row.description, rotatedFrom: row.keyId });
  });
}

/**
 * On the first start of an empty database, creates the server-wide admin
 * key and returns it (once); undefined when one exists already. Replicas
 * starting together serialise on an advisory lock, so exactly one creates it.
 */
export async function ensureServerAdminKey(db: Database, keys: KeyMaterial): Promise<NewAccessKey | undefined> {
  return db.transaction(async (tx) => {
    await q.lockServerKey(tx);
    if (await q.hasServerKey(tx)) return undefined;
    return mint(tx, keys, { workspace: null, user: "admin", role: Role.ADMIN, expireTime: null, description: "server-wide admin key, created at first start" });
  });
}
