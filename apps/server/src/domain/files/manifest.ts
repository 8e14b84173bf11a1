// A version's manifest: the files it holds, and one digest over all of them
// that stays the same wherever the version goes (export, re-import, another
// registry), so two copies can be compared with one string.
import { createHash } from "node:crypto";

export interface ManifestEntry {
  /** Normalised relative path (see paths.ts). */
  path: string;
  size: number;
  /** Lowercase hex SHA-256 of the content. */
  sha256: string;
}

/**
 * `sha256:<hex>` over the entries sorted by path (byte order of UTF-8), each
 * written as `<sha256> <size> <path>\n`. Order of input, media types and md5
 * do not count: the digest names the content and its layout only. Paths
 * cannot hold a newline (paths.ts refuses control characters), so the
 * encoding is unambiguous.
 */
export function manifestDigest(entries: readonly ManifestEntry[]): string {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const hash = createHash("sha256");
  for (const e of sorted) hash.update(`${e.sha256} ${e.size} ${e.path}\n`);
  return `sha256:${hash.digest("hex")}`;
}

const MEDIA_TYPES: Record<string, string> = {
  json: "application/json",
  yaml: "application/yaml",
  yml: "application/yaml",
  txt: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  py: "text/x-python",
  pmml: "application/xml",
  xml: "application/xml",
  onnx: "application/onnx",
  safetensors: "application/octet-stream",
  pt: "application/octet-stream",
  pth: "application/octet-stream",
  bin: "application/octet-stream",
  h5: "application/x-hdf5",
  pb: "application/octet-stream",
  pkl: "application/octet-stream",
  joblib: "application/octet-stream",
  tar: "application/x-tar",
  gz: "application/gzip",
  tgz: "application/gzip",
  zip: "application/zip",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
};

/** The media type for a path when the client gave none: by extension, else octet-stream. */
export function mediaTypeOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return (dot > 0 && MEDIA_TYPES[name.slice(dot + 1).toLowerCase()]) || "application/octet-stream";
}
