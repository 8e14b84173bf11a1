// Turns a bearer token into a Principal. Keys are read through the access
// keys domain and cached for a few seconds; a verified secret is remembered
// (by its SHA-256) so the slow scrypt check runs once per key per process.
// Revocation is seen at once by the process that revoked (forget()) and
// within cacheTtlMs by every other replica.
import { createHash, timingSafeEqual } from "node:crypto";
import { Role } from "@modelreg/proto";
import { type AccessKeysDomain, isExpired, type KeyCredentials } from "../domain/keys/index.js";
import { UnauthenticatedError } from "../domain/shared/errors.js";
import type { Logger } from "../logger.js";
import { parseToken, verifySecret } from "./keys.js";
import type { Principal } from "./principal.js";

export interface AuthenticatorDeps {
  /** Where keys are looked up and their use recorded. */
  keys: Pick<AccessKeysDomain, "credentials" | "markUsed">;
  logger: Logger;
  /** The server-wide admin token from the environment (`<id>.<secret>`), if any. */
  adminToken?: string;
  cacheTtlMs?: number;
  now?: () => number;
}

interface CachedKey {
  loadedAt: number;
  row: KeyCredentials | undefined;
  /** SHA-256 (hex) of secrets that verified / failed against secretHash. */
  good: Set<string>;
  bad: Set<string>;
  lastUsedWritten: number;
}

/** What the checks share: the deps, the key cache, and the environment's admin key. */
interface Context {
  keys: AuthenticatorDeps["keys"];
  logger: Logger;
  ttl: number;
  now: () => number;
  cache: Map<string, CachedKey>;
  admin?: { keyId: string; digest: Buffer };
}

const digest = (s: string) => createHash("sha256").update(s).digest("hex");

export interface Authenticator {
  /** The principal of a bearer token, or UnauthenticatedError saying what is wrong with it. */
  authenticate(token: string | undefined): Promise<Principal>;
  /** Drops a key from the cache (after revoke or rotate). */
  forget(keyId: string): void;
}

export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  const admin = deps.adminToken ? parseToken(deps.adminToken) : undefined;
  if (deps.adminToken && !admin) throw new Error("the admin token is not of the form <key_id>.<secret>");
  const c: Context = {
    keys: deps.keys,
    logger: deps.logger,
    ttl: deps.cacheTtlMs ?? 5000,
    now: deps.now ?? Date.now,
    cache: new Map(),
    admin: admin && { keyId: admin.keyId, digest: Buffer.from(digest(deps.adminToken!), "hex") },
  };
  // Tokens that authenticated recently, so the hot path is one map lookup
  // (no parsing, hashing or key cache work). Entries live no longer than the
  // key cache, and forget() drops a key's entries at once.
  const recent = new Map<string, { principal: Principal; until: number }>();

  return {
    async authenticate(token) {
      if (token) {
        const hit = recent.get(token);
        if (hit && hit.until > c.now() && !isExpired(hit.principal.expireTime, c.now())) return hit.principal;
      }
      const principal = await check(c, token);
      if (token) {
        if (recent.size >= 10_000) recent.clear();
        recent.set(token, { principal, until: c.now() + c.ttl });
      }
      return principal;
    },

    forget(keyId) {
      c.cache.delete(keyId);
      for (const [token, entry] of recent) if (entry.principal.keyId === keyId) recent.delete(token);
    },
  };
}

async function load(c: Context, keyId: string): Promise<CachedKey> {
  const hit = c.cache.get(keyId);
  if (hit && c.now() - hit.loadedAt < c.ttl) return hit;
  const row = await c.keys.credentials(keyId);
  // Keep what was learnt about secrets only while the hash is unchanged.
  const same = hit?.row && row && hit.row.secretHash === row.secretHash;
  const entry: CachedKey = {
    loadedAt: c.now(),
    row,
    good: same ? hit.good : new Set(),
    bad: same ? hit.bad : new Set(),
    lastUsedWritten: hit?.lastUsedWritten ?? 0,
  };
  if (c.cache.size > 10_000) c.cache.clear(); // bounded; refilled on demand
  c.cache.set(keyId, entry);
  return entry;
}

function touch(c: Context, keyId: string, entry: CachedKey): void {
  if (c.now() - entry.lastUsedWritten < 60_000) return;
  entry.lastUsedWritten = c.now();
  c.keys.markUsed(keyId).catch((err: unknown) => c.logger.warn({ err, keyId }, "could not record last use of access key"));
}

/** The full check: parse, key lookup, secret, revocation, expiry. */
async function check(c: Context, token: string | undefined): Promise<Principal> {
  if (!token)
    throw new UnauthenticatedError(
      "this call needs an access key: send 'Authorization: Bearer <key_id>.<secret>' (the CLI reads MODELREG_ACCESS_KEY or a profile from 'modelreg login')",
    );
  const parsed = parseToken(token);
  if (!parsed) throw new UnauthenticatedError("the access key is malformed: expected <key_id>.<secret>");
  if (c.admin && parsed.keyId === c.admin.keyId) {
    if (!timingSafeEqual(Buffer.from(digest(token), "hex"), c.admin.digest)) throw new UnauthenticatedError(`the secret does not match access key ${parsed.keyId}`);
    return { user: "admin", keyId: c.admin.keyId, workspace: null, role: Role.ADMIN, expireTime: null };
  }
  const entry = await load(c, parsed.keyId);
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
  if (row.expireTime && isExpired(row.expireTime, c.now()))
    throw new UnauthenticatedError(`access key ${parsed.keyId} expired at ${row.expireTime.toISOString()}; ask an admin for a new one`);
  touch(c, parsed.keyId, entry);
  return { user: row.user, keyId: parsed.keyId, workspace: row.workspace, role: row.role as Role, expireTime: row.expireTime };
}
