// Access key material: ids, secrets, the bearer token format, and the hash
// that is all the database keeps of a secret.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type { KeyMaterial } from "../domain/ports/key-material.js";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/** Server-wide admin keys given by the environment may use any id of this shape. */
const ANY_KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A new key id: "AK" + 16 base32 characters (80 random bits). */
export function newKeyId(): string {
  const bytes = randomBytes(16);
  let id = "AK";
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}

/** A new secret: 32 random bytes, base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

export interface BearerToken {
  keyId: string;
  secret: string;
}

/** Splits `<key_id>.<secret>`; undefined when it is not of that shape. */
export function parseToken(token: string): BearerToken | undefined {
  const dot = token.indexOf(".");
  if (dot <= 0) return undefined;
  const keyId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!ANY_KEY_ID.test(keyId) || secret.length < 16 || secret.length > 256 || !/^[A-Za-z0-9_~+/=-]+$/.test(secret)) return undefined;
  return { keyId, secret };
}

/** The token of an `Authorization: Bearer ...` header value, if any. */
export function bearerOf(header: string | null): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

// What is kept of a secret: its SHA-256. Secrets are 256 random bits minted
// by the server, never chosen by a person, so a stolen hash cannot be turned
// back into a secret by guessing, however fast the hash: a slow, salted hash
// would only make every wrong guess expensive for the server, and let anyone
// who knows a key id spend the server's time with made-up secrets.
// Hashes of the earlier scheme (scrypt, see below) still verify, and are
// replaced by a digest at their first good use (auth/authenticator.ts).
const FAST = "sha256";

/** `sha256$<digest, base64url>`. */
export function fastHash(secret: string): string {
  return `${FAST}$${createHash("sha256").update(secret, "utf8").digest("base64url")}`;
}

/** What the database keeps of a new secret (the KeyMaterial port's hashSecret). */
export async function hashSecret(secret: string): Promise<string> {
  return fastHash(secret);
}

/** Whether checking a secret against `stored` needs the slow scrypt of the earlier scheme. */
export function isSlowHash(stored: string): boolean {
  return !stored.startsWith(`${FAST}$`);
}

/** Checks a secret against a `sha256$` hash: one digest and a constant-time compare. */
export function verifyFast(secret: string, stored: string): boolean {
  const expected = Buffer.from(stored.slice(FAST.length + 1), "base64url");
  const actual = createHash("sha256").update(secret, "utf8").digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// The earlier scheme: `scrypt$N$r$p$salt$hash`, N=2^15, r=8, p=1. Slow and
// memory-hard, run on libuv's thread pool (which file reads share), so the
// authenticator runs at most a few at a time.
function scrypt(secret: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * 2 };
  return new Promise((resolve, reject) => scryptCb(secret, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Checks a secret against a `scrypt$` hash of the earlier scheme. */
export async function verifySlow(secret: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scrypt(secret, Buffer.from(salt, "base64url"), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A `scrypt$` hash of the earlier scheme, for tests of keys made before the change. */
export async function hashSecretSlowly(secret: string): Promise<string> {
  const params = { N: 1 << 15, r: 8, p: 1 };
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, params);
  return ["scrypt", params.N, params.r, params.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** The domain's KeyMaterial port: random ids and secrets, SHA-256 digests. */
export const keyMaterial: KeyMaterial = { newKeyId, newSecret, hashSecret };
