// Access key material: ids, secrets, the bearer token format, and the slow
// salted hash (scrypt) that is all the database keeps of a secret.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
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

// scrypt cost N=2^15, r=8, p=1: deliberately slow and memory-hard, so a
// stolen hash is costly to attack; verified results are cached (see
// authenticator.ts), so this is paid once per key per process, not per call.
const PARAMS = { N: 1 << 15, r: 8, p: 1 };

function scrypt(secret: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * 2 };
  return new Promise((resolve, reject) => scryptCb(secret, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, PARAMS);
  return ["scrypt", PARAMS.N, PARAMS.r, PARAMS.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scrypt(secret, Buffer.from(salt, "base64url"), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The domain's KeyMaterial port: random ids and secrets, scrypt hashes. */
export const keyMaterial: KeyMaterial = { newKeyId, newSecret, hashSecret };
