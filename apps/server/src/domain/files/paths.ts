// Paths of the files in a version's manifest: relative, `/`-separated,
// normalised, and unable to escape the directory a client downloads into.
import type { FieldViolation } from "../shared/errors.js";

export const PATH_MAX_BYTES = 1024;
export const SEGMENT_MAX_BYTES = 255;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Windows reserved device names: a file called `con` cannot be written there. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * Normalises one manifest path, or says why it is refused. Accepted: UTF-8
 * text of relative segments joined by `/` (a `\` is refused, not converted,
 * so a path means the same on every platform), with `.` segments dropped.
 * Refused: empty, absolute (`/x`, `C:/x`, `//host`), `..`, empty segments
 * (`a//b`, trailing `/`), NUL and other control characters, segments over
 * 255 bytes, paths over 1,024 bytes, Windows device names, and segments
 * ending in a dot or space (Windows silently strips those).
 */
export function normalizeFilePath(raw: string): { path: string; error?: undefined } | { path?: undefined; error: string } {
  if (raw === "") return { error: "is empty; give the file's path relative to the version, e.g. weights/model.safetensors" };
  if (/[\x00-\x1f\x7f]/.test(raw)) return { error: "contains a control character (NUL, newline, ...)" };
  if (raw.includes("\\")) return { error: "contains '\\'; separate directories with '/'" };
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) return { error: "is absolute; give it relative to the version's root" };
  if (LONE_SURROGATE.test(raw)) return { error: "is not valid Unicode" };
  const segments: string[] = [];
  for (const segment of raw.split("/")) {
    if (segment === "") return { error: "has an empty segment ('//' or a trailing '/')" };
    if (segment === ".") continue;
    if (segment === "..") return { error: "contains '..'; a file cannot point outside its version" };
    if (Buffer.byteLength(segment) > SEGMENT_MAX_BYTES) return { error: `has a segment longer than ${SEGMENT_MAX_BYTES} bytes` };
    if (RESERVED.test(segment)) return { error: `has the segment "${segment}", a reserved device name on Windows` };
    if (/[. ]$/.test(segment)) return { error: `has the segment "${segment}" ending in a dot or space, which Windows cannot store` };
    segments.push(segment);
  }
  if (segments.length === 0) return { error: "names no file (only '.' segments)" };
  const path = segments.join("/").normalize("NFC");
  if (Buffer.byteLength(path) > PATH_MAX_BYTES) return { error: `is longer than ${PATH_MAX_BYTES} bytes` };
  return { path };
}

/**
 * Normalises every path of a manifest; reports each bad one by index, and
 * duplicates (after normalisation, compared case-insensitively, since two
 * files differing only in case collide on macOS and Windows) as well as a
 * file whose path is also used as a directory (`a` and `a/b`).
 */
export function normalizeManifestPaths(field: string, raw: string[]): { paths: string[]; violations: FieldViolation[] } {
  const violations: FieldViolation[] = [];
  const paths: string[] = [];
  const seen = new Map<string, number>();
  raw.forEach((p, i) => {
    const r = normalizeFilePath(p);
    if (r.error !== undefined) {
      violations.push({ field: `${field}[${i}].path`, description: `"${p.slice(0, 80)}" ${r.error}` });
      paths.push("");
      return;
    }
    const key = r.path.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) violations.push({ field: `${field}[${i}].path`, description: `"${r.path}" duplicates ${field}[${first}] ("${paths[first]}")` });
    else seen.set(key, i);
    paths.push(r.path);
  });
  // A path that is also a directory prefix of another.
  for (const [key, i] of seen) {
    const parts = key.split("/");
    for (let n = 1; n < parts.length; n++) {
      const dir = seen.get(parts.slice(0, n).join("/"));
      if (dir !== undefined)
        violations.push({ field: `${field}[${dir}].path`, description: `"${paths[dir]}" is a file, but ${field}[${i}] ("${paths[i]}") uses it as a directory` });
    }
  }
  return { paths, violations };
}
