// Etags: opaque to clients, derived from a row's uid and revision so that a
// deleted and re-created resource never matches an old etag. Plain string
// work, not a hash: it is computed for every row read, and it guards
// concurrency, not secrets.
import { EtagMismatchError } from "./errors.js";

export function etagOf(uid: string, revision: number): string {
  return `${revision.toString(36)}-${uid.slice(0, 8)}${uid.slice(9, 13)}`;
}

/** A change names the etag it read (or none, ""): refuse it when the resource has changed since. */
export function checkEtag(resource: string, given: string, current: string): void {
  if (given !== "" && given !== current) throw new EtagMismatchError(resource, current);
}
