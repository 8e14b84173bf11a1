// Opaque keyset page tokens. A token holds the sort key of the last row
// returned plus a fingerprint of the query it belongs to, so a token used
// with another parent (or, later, another filter) is refused.
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "./errors.js";

interface TokenBody {
  /** Query fingerprint. */
  q: string;
  /** Keyset position: the last row's sort values. */
  k: string[];
}

export function queryFingerprint(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("base64url").slice(0, 12);
}

export function encodePageToken(fingerprint: string, key: string[]): string {
  const body: TokenBody = { q: fingerprint, k: key };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/** Returns the keyset position, or undefined for an empty token. */
export function decodePageToken(token: string, fingerprint: string, arity: number): string[] | undefined {
  if (token === "") return undefined;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    body = undefined;
  }
  const ok =
    typeof body === "object" &&
    body !== null &&
    typeof (body as TokenBody).q === "string" &&
    Array.isArray((body as TokenBody).k) &&
    (body as TokenBody).k.length === arity &&
    (body as TokenBody).k.every((x) => typeof x === "string");
  if (!ok) throw InvalidArgumentError.field("page_token", "is not a page token this server issued; pass next_page_token from the previous response unchanged");
  if ((body as TokenBody).q !== fingerprint)
    throw InvalidArgumentError.field("page_token", "belongs to a different query; use it only with the same parent (and filter) it was issued for");
  return (body as TokenBody).k;
}

/**
 * Cuts a page from rows fetched with `limit + 1` (the extra row only says a
 * next page exists) and makes the token from the last row kept.
 */
export function pageOf<T>(rows: T[], limit: number, fingerprint: string, keyOf: (row: T) => string[]): { rows: T[]; nextPageToken: string } {
  if (rows.length <= limit) return { rows, nextPageToken: "" };
  const page = rows.slice(0, limit);
  return { rows: page, nextPageToken: encodePageToken(fingerprint, keyOf(page[limit - 1]!)) };
}
