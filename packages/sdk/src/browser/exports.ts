// Exports from a browser page: start one, wait for it (the Node client's
// exports/lifecycle.ts), and fetch its archive into the page, checked
// against the export's sha256; a refused URL is replaced by a fresh one
// from GetExport, for the same archive only.
import type { Export } from "@modelreg/proto";
import { archiveAgain, archiveOf, type ExportCalls, type ExportRef, getExport, nameOf } from "../exports/lifecycle.js";
import type { BrowserTransferContext, BrowserTransferOptions } from "./context.js";
import { fetchFile } from "./download.js";

export interface DownloadedExportBlob {
  /** The export, as last read (with the URL used). */
  export: Export;
  /** The archive's file name, e.g. `fraud-1.0.0.tar.gz`. */
  fileName: string;
  sizeBytes: number;
  /** Checked: the archive hashes to it. */
  sha256: string;
  blob: Blob;
}

const ARCHIVE_TYPES: [string, string][] = [
  [".tar.gz", "application/gzip"],
  [".tar", "application/x-tar"],
  [".zip", "application/zip"],
];

/** The archive of a SUCCEEDED export as a Blob, checked against its sha256 (DataLoss when it does not match). */
export async function downloadExportBlob(calls: ExportCalls, ctx: BrowserTransferContext, ref: ExportRef, options: BrowserTransferOptions = {}): Promise<DownloadedExportBlob> {
  const name = nameOf(calls, ref);
  // Always read it again: a fresh URL, and the state as it is now.
  let exp = await getExport(calls, name, options.signal);
  const { bytes } = await fetchFile(
    ctx,
    archiveOf(name, exp),
    async () => {
      exp = await archiveAgain(calls, name, exp, options.signal);
      return archiveOf(name, exp);
    },
    { ...options, offset: 0 },
  );
  const type = ARCHIVE_TYPES.find(([ext]) => exp.fileName.endsWith(ext))?.[1] ?? "application/octet-stream";
  return { export: exp, fileName: exp.fileName, sizeBytes: bytes.length, sha256: exp.sha256, blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type }) };
}
