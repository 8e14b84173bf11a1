// Turns a bearer token into a Principal. Keys are read through the access
// keys domain and cached for a few seconds; a verified secret is remembered
// (by its SHA-256), and so is a refused one. Revocation is seen at once by
// the process that revoked (forget()) and within cacheTtlMs by every other
// replica.
//
// A wrong secret for a known key id costs what an unknown key id costs: one
// cached lookup and one digest compared (an unknown id is compared with a
// stand-in hash that matches nothing), so neither time nor work tells them
// apart. Failures are limited per peer and per key id (auth-limits.ts).
// A key id known to exist is always checked (cheaply), so guessing at it
// does not lock its owner out.
// Keys hashed by the earlier scheme (scrypt) are checked within a bound on
// such checks and rehashed at their first good use.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Role } from "@modelreg/proto";
import type { ResourceExhaustedError } from "../domain/ports/limiter.js";
import { type AccessKeysDomain, isExpired, type KeyCredentials } from "../domain/keys/index.js";
import { UnauthenticatedError } from "../domain/shared/errors.js";
import type { Logger } from "../logger.js";
import { type AuthLimits, createAuthLimits } from "./auth-limits.js";
import { fastHash, isSlowHash, parseToken, verifyFast, verifySlow } from "./keys.js";
import type { Principal } from "./principal.js";

export interface AuthenticatorDeps {
  /** Where keys are looked up and their use recorded. */
  keys: Pick<AccessKeysDomain, "credentials" | "markUsed" | "upgradeSecretHash">;
  logger: Logger;
  /** The server-wide admin token from the environment (`<id>.<secret>`), if any. */
  adminToken?: string;
  cacheTtlMs?: number;
  now?: () => number;
  /** Limits on failed authentication; default createAuthLimits(). */
  limits?: AuthLimits;
}

/** What the authenticator did, for tests and metrics. */
export interface AuthCounters {
  /** Secrets compared with a stored digest: a key's, or the stand-in of an unknown key id. */
  secretChecks: number;
  /** Secrets checked with scrypt (keys hashed by the earlier scheme). */
  slowSecretChecks: number;
}

/** Whether a key still stands, for the signed URLs it asked for. */
export type KeyStatus = "live" | "unknown" | "revoked" | "expired";

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
  /** Keys that exist, and (apart, so a spray of made-up ids cannot evict real keys) ids that do not. */
  cache: Map<string, CachedKey>;
  unknown: Map<string, CachedKey>;
  admin?: { keyId: string; digest: Buffer };
  limits: AuthLimits;
  counters: AuthCounters;
  /** What an unknown key id's secret is compared with: the digest of a secret nobody has. */
  standIn: string;
  /** Slow checks under way, by key id and secret digest: the same token sent at once is checked once. */
  slowPending: Map<string, Promise<boolean>>;
}

const digest = (s: string) => createHash("sha256").update(s).digest("hex");

export interface Authenticator {
  /** The principal of a bearer token, or UnauthenticatedError saying what is wrong with it (ResourceExhaustedError after too many failures). */
  authenticate(token: string | undefined, peer?: string): Promise<Principal>;
  /** Drops a key from the cache (after revoke or rotate). */
  forget(keyId: string): void;
  /** Whether the key is known, not revoked and not expired (read through the key cache). */
  keyStatus(keyId: string): Promise<KeyStatus>;
  readonly counters: Readonly<AuthCounters>;
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
    unknown: new Map(),
    admin: admin && { keyId: admin.keyId, digest: Buffer.from(digest(deps.adminToken!), "hex") },
    limits: deps.limits ?? createAuthLimits(),
    counters: { secretChecks: 0, slowSecretChecks: 0 },
    standIn: fastHash(randomBytes(32).toString("base64url")),
    slowPending: new Map(),
  };
  // Tokens that authenticated recently, so the hot path is one map lookup
  // (no parsing, hashing or key cache work). Entries live no longer than the
  // key cache, and forget() drops a key's entries at once.
  const recent = new Map<string, { principal: Principal; until: number }>();

  return {
    async authenticate(token, peer) {
      if (token) {
        const hit = recent.get(token);
        if (hit && hit.until > c.now() && !isExpired(hit.principal.expireTime, c.now())) return hit.principal;
      }
      const principal = await check(c, token, peer);
      if (token) {
        if (recent.size >= 10_000) recent.clear();
        recent.set(token, { principal, until: c.now() + c.ttl });
      }
      return principal;
    },

    forget(keyId) {
      c.cache.delete(keyId);
      c.unknown.delete(keyId);
      for (const [token, entry] of recent) if (entry.principal.keyId === keyId) recent.delete(token);
    },

    async keyStatus(keyId) {
      if (c.admin && keyId === c.admin.keyId) return "live";
      const { row } = await load(c, keyId);
      if (!row) return "unknown";
      if (row.revokeTime) return "revoked";
      if (row.expireTime && isExpired(row.expireTime, c.now())) return "expired";
      return "live";
    },

    counters: c.counters,
  };
}

async function load(c: Context, keyId: string): Promise<CachedKey> {
  const hit = c.cache.get(keyId) ?? c.unknown.get(keyId);
  if (hit && c.now() - hit.loadedAt < c.ttl) return hit;
  const row = await c.keys.credentials(keyId);
  // Keep what was learnt about secrets only while the hash is unchanged
  // (an unknown key's refused secrets too: nothing can match them).
  const same = hit && (hit.row && row ? hit.row.secretHash === row.secretHash : !hit.row && !row);
  const entry: CachedKey = {
    loadedAt: c.now(),
    row,
    good: same ? hit.good : new Set(),
    bad: same ? hit.bad : new Set(),
    lastUsedWritten: hit?.lastUsedWritten ?? 0,
  };
  const [into, from] = row ? [c.cache, c.unknown] : [c.unknown, c.cache];
  from.delete(keyId);
  if (into.size >= 10_000) into.clear(); // bounded; refilled on demand
  into.set(keyId, entry);
  return entry;
}

function touch(c: Context, keyId: string, entry: CachedKey): void {
  if (c.now() - entry.lastUsedWritten < 60_000) return;
  entry.lastUsedWritten = c.now();
  c.keys.markUsed(keyId).catch((err: unknown) => c.logger.warn({ err, keyId }, "could not record last use of access key"));
}

/** The full check: parse, key lookup, secret, revocation, expiry. */
async function check(c: Context, token: string | undefined, peer: string | undefined): Promise<Principal> {
  if (!token)
    throw new UnauthenticatedError(
      "this call needs an access key: send 'Authorization: Bearer <key_id>.<secret>' (the CLI reads MODELREG_ACCESS_KEY or a profile from 'modelreg login')",
    );
  const parsed = parseToken(token);
  if (!parsed) throw new UnauthenticatedError("the access key is malformed: expected <key_id>.<secret>");
  const { keyId, secret } = parsed;
  if (c.admin && keyId === c.admin.keyId) {
    if (!timingSafeEqual(Buffer.from(digest(token), "hex"), c.admin.digest)) throw refusal(c, peer, keyId, `the secret does not match access key ${keyId}`);
    return { user: "admin", keyId: c.admin.keyId, workspace: null, role: Role.ADMIN, expireTime: null };
  }
  const d = digest(secret);
  // A peer that failed too often is refused before a lookup, so that made-up
  // key ids cannot keep the database busy; a key id known to exist is still
  // looked up (at most once per cacheTtlMs) and its secret checked, so its
  // owner gets in from that address too.
  if (!c.cache.has(keyId)) c.limits.checkPeer(peer);
  const entry = await load(c, keyId);
  const row = entry.row;
  if (!entry.good.has(d)) {
    if (entry.bad.has(d) || !(await verify(c, { keyId, secret, d, peer }, entry))) {
      if (entry.bad.size < 16) entry.bad.add(d);
      throw refusal(c, peer, keyId, row ? `the secret does not match access key ${keyId}` : `access key ${keyId} is not known to this server`);
    }
    entry.good.add(d);
  }
  if (!row) throw new Error("a secret verified against no key"); // unreachable: verify() refuses unknown ids
  if (row.revokeTime) throw new UnauthenticatedError(`access key ${keyId} was revoked at ${row.revokeTime.toISOString()}; ask an admin for a new one`);
  if (row.expireTime && isExpired(row.expireTime, c.now()))
    throw new UnauthenticatedError(`access key ${keyId} expired at ${row.expireTime.toISOString()}; ask an admin for a new one`);
  touch(c, keyId, entry);
  return { user: row.user, keyId, workspace: row.workspace, role: row.role as Role, expireTime: row.expireTime };
}

/** Whether the secret matches the key's hash; an unknown key's is compared with the stand-in, the same work. */
async function verify(c: Context, t: { keyId: string; secret: string; d: string; peer: string | undefined }, entry: CachedKey): Promise<boolean> {
  const { keyId, secret, d } = t;
  const stored = entry.row?.secretHash ?? c.standIn;
  if (!isSlowHash(stored)) {
    c.counters.secretChecks++;
    return verifyFast(secret, stored) && entry.row !== undefined;
  }
  // A key of the earlier scheme: its failures are refused before the slow
  // check once over their budget, and such checks run a few at a time.
  const pendingKey = `${keyId} ${d}`;
  let pending = c.slowPending.get(pendingKey);
  if (!pending) {
    c.limits.checkPeer(t.peer);
    c.limits.checkKey(keyId);
    pending = verifySlowly(c, keyId, secret, stored).finally(() => c.slowPending.delete(pendingKey));
    c.slowPending.set(pendingKey, pending);
  }
  return pending;
}

/** The scrypt check of the earlier scheme, within the bound on such checks; a good secret's hash is replaced by its digest. */
async function verifySlowly(c: Context, keyId: string, secret: string, stored: string): Promise<boolean> {
  const ok = await c.limits.slow(() => {
    c.counters.slowSecretChecks++;
    return verifySlow(secret, stored);
  });
  if (!ok) return false;
  try {
    await c.keys.upgradeSecretHash(keyId, stored, fastHash(secret));
  } catch (err) {
    c.logger.warn({ err, keyId }, "could not rehash an access key of the earlier scheme; it keeps its scrypt hash");
  }
  return true;
}

/** The error of a failed authentication: Unauthenticated, or ResourceExhausted once the peer or key id is over its budget. */
function refusal(c: Context, peer: string | undefined, keyId: string, message: string): UnauthenticatedError | ResourceExhaustedError {
  return c.limits.failed(peer, keyId) ?? new UnauthenticatedError(message);
}
