// Signed plain-HTTP URLs (artifact downloads, export archives): whoever holds
// the URL may make that one request until it expires, without an access key.
// The HMAC covers the method, the exact path, the workspace, the object, the
// expiry and the key id, and the access key the URL was issued to when there
// is one (so its revocation can end the URL); the host is not covered (the
// URL is only ever verified by the server that holds the keys).
//
// Several keys are accepted so a secret can be rotated without breaking URLs
// in flight: put the new key first (it signs from then on) and drop the old
// one once the longest expiry has passed.
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import { SignedUrlError } from "./errors.js";

export interface SigningKey {
  /** Short public id carried in the URL (`kid`), e.g. "2025-06". */
  id: string;
  /** At least 32 random bytes. */
  secret: Uint8Array;
}

export type SignedUrlMethod = "GET" | "HEAD" | "PUT";

export interface SignRequest {
  /** Absolute path, e.g. "/files/ws-a/obj-1"; signed in its URL-canonical form. */
  path: string;
  workspace: string;
  /** Id of the object the URL grants access to. */
  object: string;
  method?: SignedUrlMethod;
  /** Greater than 0, at most the signer's maxExpiresInSeconds. */
  expiresInSeconds: number;
  /** The access key the URL is issued to (`ak`); none ("" or unset) with AUTH=off. */
  accessKeyId?: string;
}

export interface VerifiedUrl {
  workspace: string;
  object: string;
  expiresAt: Date;
  /** The access key the URL was issued to, if it names one. */
  accessKeyId?: string;
}

export interface UrlSigner {
  /** Returns the canonical path plus ?ws=…&obj=…&exp=…&kid=…[&ak=…]&sig=…. */
  sign(req: SignRequest): string;
  /**
   * Checks a URL for the method it is used with. Throws SignedUrlError.
   * Query parameters other than the ones it adds are ignored and NOT
   * covered by the signature: handlers must act only on what this returns.
   */
  verify(url: URL | string, method: string): VerifiedUrl;
}

export interface UrlSignerOptions {
  /** The first key signs; every key verifies. */
  keys: SigningKey[];
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Default 7 days. */
  maxExpiresInSeconds?: number;
}

export const DEFAULT_MAX_EXPIRES_IN_SECONDS = 7 * 24 * 3600;
const MIN_SECRET_BYTES = 32;
// Bumped if the canonical string ever changes, so old signatures cannot be
// reinterpreted under a new layout.
const VERSION = "modelreg-signed-url-v1";
// Parsing needs a base for paths without scheme and host; it is never used.
const BASE = "http://signed-url.invalid";
const PARAMS = ["ws", "obj", "exp", "kid", "sig"] as const;
const KID = /^[A-Za-z0-9._-]{1,64}$/;
// Access key ids as auth/keys.ts accepts them (environment admin keys included).
const ACCESS_KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SIG = /^[A-Za-z0-9_-]{43}$/; // 32 bytes of HMAC-SHA256, base64url, unpadded
const EXP = /^[1-9][0-9]{0,11}$/;
const LONE_SURROGATE = /\p{Cs}/u;

export function createUrlSigner(opts: UrlSignerOptions): UrlSigner {
  const now = opts.now ?? Date.now;
  const maxTtl = opts.maxExpiresInSeconds ?? DEFAULT_MAX_EXPIRES_IN_SECONDS;
  if (!Number.isSafeInteger(maxTtl) || maxTtl <= 0) throw new RangeError(`maxExpiresInSeconds must be a positive whole number, got ${maxTtl}`);
  const keys = importKeys(opts.keys);
  const [signingId, signingKey] = [...keys][0]!;

  return {
    sign({ path, workspace, object, method = "GET", expiresInSeconds, accessKeyId }) {
      if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds <= 0 || expiresInSeconds > maxTtl)
        throw new RangeError(`expiresInSeconds must be a whole number from 1 to ${maxTtl}, got ${expiresInSeconds}`);
      checkField("workspace", workspace);
      checkField("object", object);
      if (accessKeyId && !ACCESS_KEY_ID.test(accessKeyId)) throw new RangeError(`access key id ${JSON.stringify(accessKeyId)} is not valid`);
      const canonicalPath = canonicalPathOf(path);
      const exp = String(Math.floor(now() / 1000) + expiresInSeconds);
      const ak: [string, string][] = accessKeyId ? [["ak", accessKeyId]] : [];
      const sig = mac(signingKey, [method, canonicalPath, workspace, object, exp, signingId, ...ak.map(([, v]) => v)]);
      const query = new URLSearchParams([["ws", workspace], ["obj", object], ["exp", exp], ["kid", signingId], ...ak, ["sig", sig]]);
      return `${canonicalPath}?${query}`;
    },

    verify(url, method) {
      let parsed: URL;
      try {
        parsed = typeof url === "string" ? new URL(url, BASE) : url;
      } catch {
        throw new SignedUrlError("MALFORMED");
      }
      const q = parsed.searchParams;
      const values: Partial<Record<(typeof PARAMS)[number], string>> = {};
      for (const name of PARAMS) {
        const all = q.getAll(name);
        if (all.length === 0) throw new SignedUrlError("MISSING");
        // A repeated parameter would let the verifier and a later reader of
        // the query disagree on which value counts.
        if (all.length > 1) throw new SignedUrlError("MALFORMED");
        values[name] = all[0];
      }
      const { ws, obj, exp, kid, sig } = values as Record<(typeof PARAMS)[number], string>;
      // Optional: URLs issued with AUTH=off (or before URLs named their key) have none.
      const aks = q.getAll("ak");
      const ak = aks[0];
      if (aks.length > 1 || (ak !== undefined && !ACCESS_KEY_ID.test(ak))) throw new SignedUrlError("MALFORMED");
      if (!EXP.test(exp) || !KID.test(kid) || !SIG.test(sig)) throw new SignedUrlError("MALFORMED");
      const given = Buffer.from(sig, "base64url");
      // Several strings decode to the same bytes (unused low bits of the last
      // character); accept only the one spelling the signer produces.
      if (given.toString("base64url") !== sig) throw new SignedUrlError("MALFORMED");
      const key = keys.get(kid);
      if (!key) throw new SignedUrlError("UNKNOWN_KEY");
      // With `ak` the MAC covers one more field, so a URL cannot lose or gain one.
      const expected = Buffer.from(mac(key, [method, parsed.pathname, ws, obj, exp, kid, ...(ak === undefined ? [] : [ak])]), "base64url");
      if (!timingSafeEqual(given, expected)) throw new SignedUrlError("BAD_SIGNATURE");
      // Expiry only after the signature: EXPIRED then always means "a real
      // URL of ours, too old", and the client should ask for a new one.
      // maxExpiresInSeconds is not checked again here: with servers' clocks
      // a little apart, a URL issued at the maximum would look too long.
      const expSeconds = Number(exp);
      if (now() >= expSeconds * 1000) throw new SignedUrlError("EXPIRED");
      return { workspace: ws, object: obj, expiresAt: new Date(expSeconds * 1000), ...(ak === undefined ? {} : { accessKeyId: ak }) };
    },
  };
}

function importKeys(list: SigningKey[]): Map<string, KeyObject> {
  if (list.length === 0) throw new RangeError("at least one signing key is needed");
  const keys = new Map<string, KeyObject>();
  for (const { id, secret } of list) {
    if (!KID.test(id)) throw new RangeError(`signing key id ${JSON.stringify(id)} must be 1 to 64 of A-Z a-z 0-9 . _ -`);
    if (keys.has(id)) throw new RangeError(`signing key id ${id} is used twice`);
    if (secret.byteLength < MIN_SECRET_BYTES) throw new RangeError(`signing key ${id} is ${secret.byteLength} bytes; use at least ${MIN_SECRET_BYTES} random bytes`);
    // Copied, so a caller reusing or zeroing its buffer cannot change the key.
    keys.set(id, createSecretKey(Buffer.from(secret)));
  }
  return keys;
}

// Each field as <UTF-8 byte length>:<bytes>, so no choice of values can move
// bytes from one field into its neighbour and keep the same MAC input.
function mac(key: KeyObject, fields: string[]): string {
  const h = createHmac("sha256", key);
  for (const f of [VERSION, ...fields]) h.update(`${Buffer.byteLength(f, "utf8")}:${f}`, "utf8");
  return h.digest("base64url");
}

// The path is signed as the URL parser will hand it to the verifier
// (percent-encoded, dot segments resolved), or a URL we issue would fail.
function canonicalPathOf(path: string): string {
  if (!path.startsWith("/") || path.startsWith("//") || /[?#\\]/.test(path) || LONE_SURROGATE.test(path))
    throw new RangeError(`path ${JSON.stringify(path)} must be an absolute path without query, fragment or backslash`);
  return new URL(path, BASE).pathname;
}

// Values travel through URLSearchParams, which would silently replace lone
// surrogates, so the verifier would return something else than was signed.
function checkField(name: string, value: string): void {
  if (value === "" || value.length > 1024 || LONE_SURROGATE.test(value))
    throw new RangeError(`${name} must be 1 to 1024 characters of valid Unicode`);
}
