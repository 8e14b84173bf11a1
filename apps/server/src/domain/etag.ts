// Etags: opaque to clients, derived from a row's uid and revision so that a
// deleted and re-created resource never matches an old etag.
import { createHash } from "node:crypto";

export function etagOf(uid: string, revision: number): string {
  return createHash("sha256").update(`${uid}:${revision}`).digest("base64url").slice(0, 16);
}
