// Turns a bearer token into a Principal. Keys are read from the database and
// cached for a few seconds; a verified secret is remembered (by its SHA-256)
// so the slow scrypt check runs once per key per process. Revocation is seen
// at once by the process that revoked (forget()) and within cacheTtlMs by
// every other replica.
import { createHash, timingSafeEqual } from "node:crypto";
import { accessKeys, type Database } from "@modelreg/db";
import { Role } from "@modelreg/proto";
import { eq, sql } from "drizzle-orm";
import { UnauthenticatedError } from "../domain/shared/errors.js";
import type { Logger } from "../logger.js";
import { parseToken, verifySecret } from "./keys.js";
import type { Principal } from "./principal.js";

export interface AuthenticatorDeps {
  db: Database;
  logger: Logger;
  /** The server-wide admin token from the environment (`<id>.<secret>`), if any. */
  adminToken?: string;
  cacheTtlMs?: number;
  now?: () => number;
}

interface CachedKey {
  loadedAt: number;
  row: { workspace: string | null; user: string; role: number; secretHash: string; expireTime: Date | null; revokeTime: Date | null } | undefined;
  /** SHA-256 (hex) of secrets that verified / failed against secretHash. */
  good: Set<string>;
  bad: Set<string>;
  lastUsedWritten: number;
}

const digest = (s: string) => createHash("sha256").update(s).digest("hex");

export type Authenticator = ReturnType<typeof createAuthenticator>;

export function createAuthenticator(deps: AuthenticatorDeps) {
  const ttl = deps.cacheTtlMs ?? 5000;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, CachedKey>();
  const admin = deps.adminToken ? parseToken(deps.adminToken) : undefined;
  const adminDigest = deps.adminToken ? Buffer.from(digest(deps.adminToken), "hex") : undefined;
  if (deps.adminToken && !admin) throw new Error("the admin token is not of the form <key_id>.<secret>");

  async function load(keyId: string): Promise<CachedKey> {
    const hit = cache.get(keyId);
    if (hit && now() - hit.loadedAt < ttl) return hit;
    const [row] = await deps.db
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
    // Keep what was learnt about secrets only while the hash is unchanged.
    const same = hit?.row && row && hit.row.secretHash === row.secretHash;
    const entry: CachedKey = {
      loadedAt: now(),
      row,
      good: same ? hit.good : new Set(),
      bad: same ? hit.bad : new Set(),
      lastUsedWritten: hit?.lastUsedWritten ?? 0,
    };
    if (cache.size > 10_000) cache.clear(); // bounded; refilled on demand
    cache.set(keyId, entry);
    return entry;
  }

  function touch(keyId: string, entry: CachedKey): void {
    if (now() - entry.lastUsedWritten < 60_000) return;
    entry.lastUsedWritten = now();
    deps.db
      .update(accessKeys)
      .set({ lastUsedTime: sql`date_trunc('minute', now())` })
      .where(eq(accessKeys.keyId, keyId))
      .catch((err: unknown) => deps.logger.warn({ err, keyId }, "could not record last use of access key"));
  }

  /** The full check: parse, key lookup, secret, revocation, expiry. */
  async function check(token: string | undefined): Promise<Principal> {
    if (!token)
      throw new UnauthenticatedError(
        "this call needs an access key: send 'Authorization: Bearer <key_id>.<secret>' (the CLI reads MODELREG_ACCESS_KEY or a profile from 'modelreg login')",
      );
    const parsed = parseToken(token);
    if (!parsed) throw new UnauthenticatedError("the access key is malformed: expected <key_id>.<secret>");
    if (admin && adminDigest && parsed.keyId === admin.keyId) {
      if (!timingSafeEqual(Buffer.from(digest(token), "hex"), adminDigest)) throw new UnauthenticatedError(`the secret does not match access key ${parsed.keyId}`);
      return { user: "admin", keyId: admin.keyId, workspace: null, role: Role.ADMIN, expireTime: null };
    }
    const entry = await load(parsed.keyId);
    const row = entry.row;
    if (!row) throw new UnauthenticatedError(`access key ${parsed.keyId} is not known to this server`);
    const d = digest(parsed.secret);
    if (!entry.good.has(d)) {
      if (entry.bad.has(d) || !(await verifySecret(parsed.secret, row.secretHash))) {
        if (entry.bad.size < 100) entry.bad.add(d);
        throw new UnauthenticatedError(`the secret does not match access key ${parsed.keyId}`);
      }
      entry.good.add(d);
    }
    if (row.revokeTime) throw new UnauthenticatedError(`access key ${parsed.keyId} was revoked at ${row.revokeTime.toISOString()}; ask an admin for a new one`);
    if (row.expireTime && row.expireTime.getTime() <= now())
      throw new UnauthenticatedError(`access key ${parsed.keyId} expired at ${row.expireTime.toISOString()}; ask an admin for a new one`);
    touch(parsed.keyId, entry);
    return { user: row.user, keyId: parsed.keyId, workspace: row.workspace, role: row.role as Role, expireTime: row.expireTime };
  }

  // Tokens that authenticated recently, so the hot path is one map lookup
  // (no parsing, hashing or key cache work). Entries live no longer than the
  // key cache, and forget() drops a key's entries at once.
  const recent = new Map<string, { principal: Principal; until: number }>();

  return {
    async authenticate(token: string | undefined): Promise<Principal> {
      if (token) {
        const hit = recent.get(token);
        if (hit && hit.until > now() && (!hit.principal.expireTime || hit.principal.expireTime.getTime() > now())) return hit.principal;
      }
      const principal = await check(token);
      if (token) {
        if (recent.size >= 10_000) recent.clear();
        recent.set(token, { principal, until: now() + ttl });
      }
      return principal;
    },

    /** Drops a key from the cache (after revoke or rotate). */
    forget(keyId: string): void {
      cache.delete(keyId);
      for (const [token, entry] of recent) if (entry.principal.keyId === keyId) recent.delete(token);
    },
  };
}
