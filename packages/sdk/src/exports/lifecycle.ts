// An export's life as a client sees it: start one, read it, wait until it
// has its archive (polling GetExport: exports are resources with a state,
// not streams), and the error of one that ended without. Shared by the
// Node client (exports.ts adds the archive's download to a file) and the
// browser one; no node: module here.
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import { ExportState, type Export, type ExportFormat, type ExportService, type VersionFile } from "@modelreg/proto";
import { versionName } from "../names.js";
import { sleep } from "../transfers/retry.js";
import { exportName, parseExportFormat, type ExportFormatName } from "./names.js";

/** What the export calls need: ExportService and the workspace short names resolve in. */
export interface ExportCalls {
  exports: Client<typeof ExportService>;
  workspace: string;
}

export interface StartExportOptions {
  /** Start a new export even when one for this version and format is pending, running or done. */
  force?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface WaitForExportOptions {
  /** Give up after this long (DeadlineExceeded); default: wait as long as it takes. */
  timeoutMs?: number | undefined;
  /** Time between two GetExport calls (default 500 ms). */
  pollMs?: number | undefined;
  /** Called with the export after every poll (bytes_done / bytes_total show how far it is). */
  onProgress?: ((exp: Export) => void) | undefined;
  /** Stops waiting (Canceled); the export itself goes on. */
  signal?: AbortSignal | undefined;
}

/**
 * An export that ended FAILED (code Internal) or CANCELLED (code Canceled),
 * with the export record (its error_message). A ConnectError: code-based
 * handling (exit codes, retries) treats it like any other.
 */
export class ExportFailedError extends ConnectError {
  // ConnectError's instanceof accepts any error named "ConnectError"; this one only its own.
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === "object" && v !== null && Object.prototype.isPrototypeOf.call(ExportFailedError.prototype, v);
  }
  /** The export as last read: state FAILED (see error_message) or CANCELLED. */
  readonly export: Export;
  constructor(exp: Export, message: string, code: Code) {
    super(message, code);
    this.export = exp;
  }
}

/** Something that names an export: the Export itself, its resource name, or `model:version/uid`. */
export type ExportRef = Export | string;

/** The resource name of an export reference (InvalidArgument when it names none). */
export function nameOf(ctx: ExportCalls, ref: ExportRef): string {
  if (typeof ref !== "string") return ref.name;
  try {
    return exportName(ctx.workspace, ref);
  } catch (err) {
    throw new ConnectError((err as Error).message, Code.InvalidArgument);
  }
}

function call(signal: AbortSignal | undefined): CallOptions {
  return signal ? { signal } : {};
}

/** Starts an export of a READY version (`model:version`, `model@alias` or a full name), or returns the one already there for it and the format. */
export async function startExport(ctx: ExportCalls, version: string, format: ExportFormatName | ExportFormat, options: StartExportOptions = {}): Promise<Export> {
  let parent: string;
  let fmt: ExportFormat;
  try {
    parent = versionName(ctx.workspace, version);
    fmt = parseExportFormat(format);
  } catch (err) {
    throw new ConnectError((err as Error).message, Code.InvalidArgument);
  }
  const res = await ctx.exports.createExport({ parent, format: fmt, force: options.force ?? false }, call(options.signal));
  return res.export!;
}

/** The export, freshly read (a SUCCEEDED one with a fresh download URL). */
export async function getExport(ctx: ExportCalls, ref: ExportRef, signal?: AbortSignal): Promise<Export> {
  const res = await ctx.exports.getExport({ name: nameOf(ctx, ref) }, call(signal));
  return res.export!;
}

/** The error for an export that ended without an archive; undefined while it can still succeed. */
export function exportError(exp: Export): ExportFailedError | undefined {
  if (exp.state === ExportState.FAILED) {
    return new ExportFailedError(exp, `export ${exp.name} failed${exp.attempts > 1 ? ` after ${exp.attempts} attempts` : ""}: ${exp.errorMessage || "no reason given"}`, Code.Internal);
  }
  if (exp.state === ExportState.CANCELLED) return new ExportFailedError(exp, `export ${exp.name} was cancelled`, Code.Canceled);
  return undefined;
}

/** Polls until the export SUCCEEDED (resolves with it) or ended otherwise (rejects with ExportFailedError). */
export async function waitForExport(ctx: ExportCalls, ref: ExportRef, options: WaitForExportOptions = {}): Promise<Export> {
  const name = nameOf(ctx, ref);
  const pollMs = Math.max(10, options.pollMs ?? 500);
  const deadline = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : Number.POSITIVE_INFINITY;
  for (;;) {
    options.signal?.throwIfAborted();
    const exp = await getExport(ctx, name, options.signal);
    options.onProgress?.(exp);
    if (exp.state === ExportState.SUCCEEDED) return exp;
    const failed = exportError(exp);
    if (failed) throw failed;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new ConnectError(
        `export ${name} is still ${stateName(exp.state)} after ${options.timeoutMs} ms (${exp.bytesDone} of ${exp.bytesTotal} bytes packed); it goes on: wait again, or cancel it`,
        Code.DeadlineExceeded,
      );
    }
    await sleep(Math.min(pollMs, left), options.signal);
  }
}

/** PENDING, RUNNING, ... */
export function stateName(state: ExportState): string {
  return ExportState[state] ?? String(state);
}

/**
 * The archive of a SUCCEEDED export as a file to download (its path the
 * archive's file name); throws ExportFailedError for one that ended
 * without, FailedPrecondition for one not done yet.
 */
export function archiveOf(name: string, exp: Export): VersionFile {
  const failed = exportError(exp);
  if (failed) throw failed;
  if (exp.state !== ExportState.SUCCEEDED) {
    throw new ConnectError(`export ${name} is ${stateName(exp.state)}: it has no archive yet (wait for it first)`, Code.FailedPrecondition);
  }
  if (!exp.downloadUrl) throw new ConnectError(`export ${name} SUCCEEDED but has no download_url`, Code.Internal);
  return { path: exp.fileName, sizeBytes: exp.sizeBytes, sha256: exp.sha256, downloadUrl: exp.downloadUrl } as VersionFile;
}

/** The export read again for a fresh URL to the same archive (Aborted when the archive is another now). */
export async function archiveAgain(ctx: ExportCalls, name: string, before: Export, signal?: AbortSignal): Promise<Export> {
  const again = await getExport(ctx, name, signal);
  if (again.sha256 !== before.sha256 || again.sizeBytes !== before.sizeBytes) {
    throw new ConnectError(`export ${name} changed while it was downloaded (sha256 ${before.sha256} -> ${again.sha256})`, Code.Aborted);
  }
  return again;
}
