// Etags: opaque to clients, derived from a row's uid and revision so that a
// deleted and re-created resource never matches an old etag. Plain string
// work, not a hash: it is computed for every row read (a SHA-256 here was 1%
// of the server's CPU under a read load), and it guards concurrency, not
// secrets.

export function etagOf(uid: string, revision: number): string {
  return `${revision.toString(36)}-${uid.slice(0, 8)}${uid.slice(9, 13)}`;
}
