// HTTP byte ranges: the Range header of downloads (RFC 9110 14.2) and the
// Content-Range header of upload chunks.

/** A satisfiable single range, [start, end) in bytes. */
export interface Slice {
  start: number;
  end: number;
}

/**
 * The range a GET asks for within `size` bytes: undefined for the whole
 * content (no header, several ranges, or a unit other than bytes: serving
 * all of it is always allowed), "unsatisfiable" for 416.
 */
export function parseRange(header: string | undefined, size: number): Slice | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === "" && b === "") return undefined;
  if (a === "") {
    // Suffix: the last n bytes (of empty content there are none to send:
    // a 206 could not even name them in its Content-Range).
    const n = Number(b);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(a);
  if (!Number.isSafeInteger(start) || start >= size) return "unsatisfiable";
  const last = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (last < start) return undefined; // invalid: ignore the header
  return { start, end: last + 1 };
}

export type ContentRange = { kind: "chunk"; start: number; end: number; total: number } | { kind: "query"; total: number };

/**
 * An upload chunk's `Content-Range: bytes <first>-<last>/<total>` (or
 * `bytes *\/<total>` to ask for the committed offset without sending), or a
 * message saying what is wrong with it.
 */
export function parseContentRange(header: string): ContentRange | { error: string } {
  const chunk = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim());
  if (chunk) {
    const [start, last, total] = [Number(chunk[1]), Number(chunk[2]), Number(chunk[3])];
    if (![start, last, total].every(Number.isSafeInteger) || last < start || last >= total)
      return { error: `"${header}" is not a valid range: expected first <= last < total` };
    return { kind: "chunk", start, end: last + 1, total };
  }
  const query = /^bytes \*\/(\d+)$/.exec(header.trim());
  if (query && Number.isSafeInteger(Number(query[1]))) return { kind: "query", total: Number(query[1]) };
  return { error: `"${header.slice(0, 80)}" is not a Content-Range of the form "bytes <first>-<last>/<total>"` };
}
