// Table views of the files of a version and of what `pull` wrote (the JSON
// views are the messages' proto JSON, or plain objects, see output.ts).
import type { DownloadedFile, VersionFile } from "@modelreg/sdk";
import { table, type RenderOptions } from "./output.js";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 0 B, 1023 B, 1.0 KiB, 12.3 MiB, ... (binary units). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** The first 12 hex digits of a digest; `-` when empty. */
export function shortDigest(hex: string): string {
  return hex ? hex.slice(0, 12) : "-";
}

/** PATH, SIZE, SHA256 (short), MD5, MEDIA TYPE. */
export function renderFilesTable(files: VersionFile[], options: RenderOptions = {}): string {
  return table(
    ["PATH", "SIZE", "SHA256", "MD5", "MEDIA TYPE"],
    files.map((f) => [f.path, formatBytes(Number(f.sizeBytes)), shortDigest(f.sha256), f.md5 || "-", f.mediaType || "-"]),
    options,
  );
}

/** PATH, SIZE, WRITTEN TO, and whether it was downloaded or already there. */
export function renderPulledTable(files: DownloadedFile[], options: RenderOptions = {}): string {
  return table(
    ["PATH", "SIZE", "LOCAL PATH", "STATUS"],
    files.map((f) => [f.path, formatBytes(f.sizeBytes), f.localPath, f.downloaded ? "downloaded" : "unchanged"]),
    options,
  );
}

/** What `pull -o json` prints for each file. */
export function pulledJson(f: DownloadedFile): Record<string, unknown> {
  return { path: f.path, localPath: f.localPath, sizeBytes: String(f.sizeBytes), sha256: f.sha256, downloaded: f.downloaded };
}
