// Exports from the SDK: start one, wait for it (lifecycle.ts, shared with
// the browser entry), download its archive. Downloading GETs the signed URL
// with the same machinery as version files (Range resume after a dropped
// connection, sha256 checked while the bytes go to a temp file, fsync,
// atomic rename), and a URL that expired is replaced by a fresh one from
// GetExport.
import type { Export } from "@modelreg/proto";
import { progressReporter, type TransferContext, type TransferProgress } from "../transfers/context.js";
import { targetPath, writeFile } from "../transfers/download.js";
import { resumableBytes } from "../transfers/partial-download.js";
import type { RetryPolicy } from "../transfers/retry.js";
import { archiveAgain, archiveOf, type ExportCalls, type ExportRef, getExport, nameOf } from "./lifecycle.js";

export {
  type ExportCalls,
  ExportFailedError,
  type ExportRef,
  exportError,
  getExport,
  startExport,
  type StartExportOptions,
  stateName,
  waitForExport,
  type WaitForExportOptions,
} from "./lifecycle.js";

export interface ExportContext extends ExportCalls {
  transfers: TransferContext;
}

export interface DownloadExportOptions {
  /** Called as bytes arrive. */
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  /** Aborts the download (Canceled); what arrived is kept for the next download unless `resume` is false. */
  signal?: AbortSignal | undefined;
  /** Retries after a dropped or stalled connection (default: 5 attempts in a row without progress). */
  retry?: Partial<RetryPolicy> | undefined;
  /** Keep what arrived when the download fails or is stopped, and continue it next time (default true); as DownloadOptions.resume. */
  resume?: boolean | undefined;
}

export interface DownloadedExport {
  /** The export, as last read (with the URL used). */
  export: Export;
  /** Where the archive was written. */
  localPath: string;
  sizeBytes: number;
  sha256: string;
}

/**
 * Downloads the archive of a SUCCEEDED export to `target` (a file, or an
 * existing directory to put it in; default: its file name in the working
 * directory), verified against the export's size and sha256.
 */
export async function downloadExport(ctx: ExportContext, ref: ExportRef, target?: string, options: DownloadExportOptions = {}): Promise<DownloadedExport> {
  const name = nameOf(ctx, ref);
  // Always read it again: a fresh URL, and the state as it is now.
  let exp = await getExport(ctx, name, options.signal);
  const archive = archiveOf(name, exp);
  const size = Number(exp.sizeBytes);
  const localPath = await targetPath(exp.fileName || `${name.slice(name.lastIndexOf("/") + 1)}.archive`, target);
  // Bytes an earlier, stopped download kept are not moved again.
  const kept = options.resume === false ? 0 : await resumableBytes(localPath, archive);
  const progress = progressReporter(size - kept, options.onProgress);
  options.onProgress?.({ bytesDone: 0, bytesTotal: size - kept, path: exp.fileName });
  // The same download as a version's file, with a relist that asks the export for a fresh URL to the same archive.
  const done = await writeFile(ctx.transfers, exp.version, archive, localPath, progress, { ...options, transport: "http" }, async () => {
    exp = await archiveAgain(ctx, name, exp, options.signal);
    return archiveOf(name, exp);
  });
  return { export: exp, localPath, sizeBytes: done.sizeBytes, sha256: done.sha256 };
}