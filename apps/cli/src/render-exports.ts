// Views of exports: one export as key/values, a list as a table, and what a
// download wrote. JSON views are the messages' proto JSON (see output.ts).
import { ExportState, exportFormatName, shortExportName, type DownloadedExport, type Export } from "@modelreg/sdk";
import { keyValues, messageJson, table, time, type RenderOptions } from "./output.js";
import { ExportSchema, ExportStateSchema } from "@modelreg/sdk";
import { enumWord } from "./enum-words.js";
import { formatBytes, shortDigest } from "./render-files.js";

/** pending, running, succeeded, failed, cancelled. */
export function exportStateName(state: ExportState): string {
  return enumWord(ExportStateSchema, state);
}

/** `1.2 MiB / 4.0 MiB (30%)`; `-` before the size is known. */
export function exportProgress(e: Export): string {
  const total = Number(e.bytesTotal);
  const done = Number(e.bytesDone);
  if (e.state === ExportState.SUCCEEDED) return `${formatBytes(total)} packed`;
  if (total === 0) return "-";
  return `${formatBytes(done)} / ${formatBytes(total)} (${Math.floor((done / total) * 100)}%)`;
}

/** A signed URL that is a path, made absolute against the server. */
export function absoluteUrl(url: string, server: string): string {
  if (!url) return "";
  try {
    return new URL(url, server).toString();
  } catch {
    return url;
  }
}

export function renderExport(e: Export, server: string): string {
  const done = e.state === ExportState.SUCCEEDED;
  return keyValues([
    ["Name", e.name],
    ["Short name", shortExportName(e.name)],
    ["Version", e.version],
    ["Format", exportFormatName(e.format)],
    ["State", exportStateName(e.state)],
    ["Progress", exportProgress(e)],
    ["File", done ? e.fileName : ""],
    ["Media type", done ? e.fileType : ""],
    ["Size", done ? `${formatBytes(Number(e.sizeBytes))} (${e.sizeBytes} bytes)` : ""],
    ["MD5", e.md5],
    ["SHA256", e.sha256],
    ["Download URL", absoluteUrl(e.downloadUrl, server)],
    ["URL expires", e.downloadUrlExpireTime ? time(e.downloadUrlExpireTime) : ""],
    ["Error", e.errorMessage],
    ["Attempts", String(e.attempts)],
    ["Created", time(e.createTime)],
    ["Updated", time(e.updateTime)],
    ["Ended", e.endTime ? time(e.endTime) : ""],
  ]);
}

/** EXPORT (model:version/uid), FORMAT, STATE, PROGRESS, SIZE, SHA256, CREATED. */
export function renderExportsTable(exports: Export[], options: RenderOptions = {}): string {
  return table(
    ["EXPORT", "FORMAT", "STATE", "PROGRESS", "SIZE", "SHA256", "CREATED"],
    exports.map((e) => [
      shortExportName(e.name),
      exportFormatName(e.format),
      exportStateName(e.state),
      e.state === ExportState.SUCCEEDED ? "done" : exportProgress(e),
      e.state === ExportState.SUCCEEDED ? formatBytes(Number(e.sizeBytes)) : "-",
      shortDigest(e.sha256),
      time(e.createTime),
    ]),
    options,
  );
}

/** What `export -O` and `exports download` print. */
export function renderDownloadedExport(d: DownloadedExport): string {
  return keyValues([
    ["Export", d.export.name],
    ["File", d.localPath],
    ["Size", `${formatBytes(d.sizeBytes)} (${d.sizeBytes} bytes)`],
    ["SHA256", d.sha256],
    ["MD5", d.export.md5],
  ]);
}

export function downloadedExportJson(d: DownloadedExport): Record<string, unknown> {
  return { localPath: d.localPath, sizeBytes: String(d.sizeBytes), sha256: d.sha256, md5: d.export.md5, export: messageJson(ExportSchema, d.export) };
}
