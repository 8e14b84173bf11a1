// The authenticator over real access keys in a real database (PGlite, and
// PostgreSQL when DATABASE_URL is set): a wrong secret for a known key id
// costs what an unknown key id costs, keys of the earlier (scrypt) scheme
// are checked within bounds and rehashed, and failures are limited per peer
// and per key id without locking out the holder of a good key.
import { randomBytes } from "node:crypto";
import { accessKeys } from "@modelreg/db";
import { createTestDatabase, describeEachDatabase, type DriverKind, type TestDatabase } from "@modelreg/db/testing";
import { Role } from "@modelreg/proto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAccessKeysDomain } from "../domain/keys/index.js";
import { ResourceExhaustedError } from "../domain/ports/limiter.js";
import { UnauthenticatedError } from "../domain/shared/errors.js";
import { ensureDefaultWorkspace } from "../domain/workspaces/index.js";
import { createLogger } from "../logger.js";
import { createAuthLimits } from "./auth-limits.js";
import { createAuthenticator, type Authenticator } from "./authenticator.js";
import { hashSecretSlowly, keyMaterial } from "./keys.js";

const logger = createLogger("silent");
const wrongSecret = () => randomBytes(32).toString("base64url");
const unknownId = () => `AK${randomBytes(8).toString("hex").toUpperCase().replace(/[0189]/g, "A").slice(0, 16)}`;

/** A clock for the failure budgets, moved by hand. */
function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function refusal(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable("authenticated"),
    (e: unknown) => e,
  );
}

describeEachDatabase("authenticator", (kind: DriverKind) => {
  let db: TestDatabase;
  const keys = () => createAccessKeysDomain(db.db, keyMaterial);
  const newKey = async (user: string) =>
    keys().create({ workspace: null }, "workspaces/default", { user, role: Role.VIEWER, expireTime: null, description: "" });
  /** A key as the earlier scheme stored it: its secret's scrypt hash. */
  const oldSchemeKey = async (user: string) => {
    const key = await newKey(user);
    await db.db.update(accessKeys).set({ secretHash: await hashSecretSlowly(key.secret) }).where(eq(accessKeys.keyId, key.accessKey.keyId));
    return key;
  };
  const storedHash = async (keyId: string) => (await db.db.select().from(accessKeys).where(eq(accessKeys.keyId, keyId)))[0]!.secretHash;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    await ensureDefaultWorkspace(db.db);
  }, 60_000);
  afterAll(async () => db?.close());

  it("keeps only a SHA-256 digest of a new key's secret", async () => {
    const key = await newKey("digest");
    expect(await storedHash(key.accessKey.keyId)).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/);
    expect(await storedHash(key.accessKey.keyId)).not.toContain(key.secret);
  });

  it("does the same work for an unknown key id as for a known one with a wrong secret, and no scrypt for either", async () => {
    const known = await newKey("known");
    const auth = createAuthenticator({ keys: keys(), logger });
    const paths: Record<string, { secretChecks: number; slowSecretChecks: number }> = {};
    for (const [name, token] of [
      ["unknown", `${unknownId()}.${wrongSecret()}`],
      ["wrong", `${known.accessKey.keyId}.${wrongSecret()}`],
    ] as const) {
      const before = { ...auth.counters };
      const e = await refusal(auth.authenticate(token));
      expect(e).toBeInstanceOf(UnauthenticatedError);
      // The same secret again is refused from the negative cache, for both alike.
      expect(await refusal(auth.authenticate(token))).toBeInstanceOf(UnauthenticatedError);
      paths[name] = { secretChecks: auth.counters.secretChecks - before.secretChecks, slowSecretChecks: auth.counters.slowSecretChecks - before.slowSecretChecks };
    }
    expect(paths.unknown).toEqual({ secretChecks: 1, slowSecretChecks: 0 });
    expect(paths.wrong).toEqual(paths.unknown);
    expect((await auth.authenticate(known.token)).user).toBe("known");
    expect(auth.counters.slowSecretChecks).toBe(0);
  });

  it("checks a key of the earlier scheme with scrypt once, then keeps a digest of it instead", async () => {
    const key = await oldSchemeKey("legacy");
    expect(await storedHash(key.accessKey.keyId)).toMatch(/^scrypt\$/);
    const auth = createAuthenticator({ keys: keys(), logger });
    expect(await auth.keyStatus(key.accessKey.keyId)).toBe("live");
    // Its holder's first calls, many at once (past the bound on slow checks): checked once, all let in.
    const principals = await Promise.all(Array.from({ length: 30 }, () => auth.authenticate(key.token)));
    expect(principals.map((p) => p.user)).toEqual(Array(30).fill("legacy"));
    expect(auth.counters.slowSecretChecks).toBe(1);
    expect(await storedHash(key.accessKey.keyId)).toMatch(/^sha256\$/);
    // Another process (a fresh cache) checks the digest.
    const other = createAuthenticator({ keys: keys(), logger });
    expect((await other.authenticate(key.token)).user).toBe("legacy");
    expect(other.counters).toEqual({ secretChecks: 1, slowSecretChecks: 0 });
  });

  it("runs few scrypt checks for a flood of wrong secrets against a key of the earlier scheme, then refuses them before checking", async () => {
    const key = await oldSchemeKey("flooded");
    const c = clock();
    const limits = createAuthLimits({ perKey: { ratePerSecond: 1, burst: 3 }, slowChecks: { running: 1, waiting: 2 }, now: c.now });
    const auth = createAuthenticator({ keys: keys(), logger, limits });
    const token = () => `${key.accessKey.keyId}.${wrongSecret()}`;
    // With the key cached, all 20 reach the bound on slow checks before any
    // scrypt can end (its result comes back as a later event).
    expect(await auth.keyStatus(key.accessKey.keyId)).toBe("live");
    // 20 at once: one runs, two wait, the rest are refused at once.
    const first = await Promise.all(Array.from({ length: 20 }, () => refusal(auth.authenticate(token()))));
    expect(first.filter((e) => e instanceof UnauthenticatedError)).toHaveLength(3);
    const busy = first.filter((e) => e instanceof ResourceExhaustedError) as ResourceExhaustedError[];
    expect(busy).toHaveLength(17);
    expect(busy[0]!.reason).toBe("TOO_MANY_CONCURRENT");
    expect(auth.counters.slowSecretChecks).toBe(3);
    // Its failure budget is spent: more wrong secrets are refused before any scrypt.
    for (let i = 0; i < 10; i++) {
      const e = (await refusal(auth.authenticate(token()))) as ResourceExhaustedError;
      expect(e).toBeInstanceOf(ResourceExhaustedError);
      expect(e.reason).toBe("TOO_MANY_AUTH_FAILURES");
      expect(e.message).toMatch(new RegExp(`too many failed authentications for access key ${key.accessKey.keyId} .*retry after 1000 ms`));
      expect(e.retryAfterMs).toBe(1000);
    }
    expect(auth.counters.slowSecretChecks).toBe(3);
    // The key's holder gets in once the budget refills.
    c.advance(1000);
    expect((await auth.authenticate(key.token)).user).toBe("flooded");
    expect(auth.counters.slowSecretChecks).toBe(4);
  });

  it("limits failures per peer before any lookup, while tokens known to be good still pass", async () => {
    const key = await newKey("peer");
    const c = clock();
    const limits = createAuthLimits({ perPeer: { ratePerSecond: 1, burst: 5 }, now: c.now });
    const cacheClock = clock();
    const auth = createAuthenticator({ keys: keys(), logger, limits, now: cacheClock.now });
    expect((await auth.authenticate(key.token, "10.0.0.1")).user).toBe("peer");
    for (let i = 0; i < 5; i++) expect(await refusal(auth.authenticate(`${unknownId()}.${wrongSecret()}`, "10.0.0.1"))).toBeInstanceOf(UnauthenticatedError);
    const checks = auth.counters.secretChecks;
    const limited = (await refusal(auth.authenticate(`${unknownId()}.${wrongSecret()}`, "10.0.0.1"))) as ResourceExhaustedError;
    expect(limited).toBeInstanceOf(ResourceExhaustedError);
    expect(limited.reason).toBe("TOO_MANY_AUTH_FAILURES");
    expect(limited.message).toMatch(/too many failed authentications from 10\.0\.0\.1/);
    expect(limited.metadata.retry_after_ms).toBe("1000");
    // Refused before anything was looked up or compared.
    expect((await refusal(auth.authenticate(`${unknownId()}.${wrongSecret()}`, "10.0.0.1"))) as Error).toBeInstanceOf(ResourceExhaustedError);
    expect(auth.counters.secretChecks).toBe(checks);
    // A key known to exist is still checked from that peer, past the recent-token and key caches
    // too: its own secret gets in, a wrong one is refused with ResourceExhausted.
    cacheClock.advance(60_000);
    expect((await auth.authenticate(key.token, "10.0.0.1")).user).toBe("peer");
    expect((await refusal(auth.authenticate(`${key.accessKey.keyId}.${wrongSecret()}`, "10.0.0.1"))) as Error).toBeInstanceOf(ResourceExhaustedError);
    // A key id this server has not seen yet waits for the peer's budget like a made-up one.
    const unseen = await newKey("unseen");
    expect((await refusal(auth.authenticate(unseen.token, "10.0.0.1"))) as Error).toBeInstanceOf(ResourceExhaustedError);
    // Other peers are not limited.
    expect(await refusal(auth.authenticate(`${unknownId()}.${wrongSecret()}`, "10.0.0.2"))).toBeInstanceOf(UnauthenticatedError);
    c.advance(1000);
    expect(await refusal(auth.authenticate(`${unknownId()}.${wrongSecret()}`, "10.0.0.1"))).toBeInstanceOf(UnauthenticatedError);
  });

  it("limits failures per key id across peers, and the key's own secret still gets in", async () => {
    const key = await newKey("target");
    const limits = createAuthLimits({ perKey: { ratePerSecond: 1, burst: 4 }, now: clock().now });
    const auth = createAuthenticator({ keys: keys(), logger, limits });
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const e = await refusal(auth.authenticate(`${key.accessKey.keyId}.${wrongSecret()}`, `10.1.0.${i}`));
      codes.push(e instanceof ResourceExhaustedError ? e.reason : (e as Error).constructor.name);
    }
    expect(codes).toEqual([...Array(4).fill("UnauthenticatedError"), ...Array(6).fill("TOO_MANY_AUTH_FAILURES")]);
    expect((await auth.authenticate(key.token, "10.1.0.99")).user).toBe("target");
  });

  it("tells whether the key a signed URL was issued to still stands", async () => {
    const auth: Authenticator = createAuthenticator({ keys: keys(), logger, adminToken: "env-admin.0123456789abcdefghijklmnopqrstuvwxyz" });
    const key = await newKey("status");
    expect(await auth.keyStatus(key.accessKey.keyId)).toBe("live");
    expect(await auth.keyStatus("env-admin")).toBe("live");
    expect(await auth.keyStatus(unknownId())).toBe("unknown");
    await keys().revoke({ workspace: null }, key.accessKey.name);
    auth.forget(key.accessKey.keyId);
    expect(await auth.keyStatus(key.accessKey.keyId)).toBe("revoked");
  });
});
