// The seven service clients every modelreg client carries (one method per
// RPC, named as in the proto), the export members both entries share, and
// how a short version reference becomes a version name. Shared by the Node
// client (client.ts) and the browser one (browser/client.ts); no node: module.
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import {
  type Export,
  type ExportFormat,
  ExportService,
  FileService,
  ModelService,
  TaskService,
  TaskWorkerService,
  VersionService,
  WorkspaceService,
} from "@modelreg/proto";
import type { ExportRef, StartExportOptions, WaitForExportOptions } from "./exports/lifecycle.js";
import type { ExportFormatName } from "./exports/names.js";
import { isAliasName, versionName } from "./names.js";

export interface ServiceClients {
  /** The workspace short names resolve in. */
  readonly workspace: string;
  /** modelreg.v1.ModelService. */
  readonly models: Client<typeof ModelService>;
  /** modelreg.v1.VersionService. */
  readonly versions: Client<typeof VersionService>;
  /** modelreg.v1.WorkspaceService: workspaces, access keys, audit log, server info. */
  readonly workspaces: Client<typeof WorkspaceService>;
  /** modelreg.v1.FileService: stage, upload, commit, list and read the files of versions. */
  readonly files: Client<typeof FileService>;
  /** modelreg.v1.ExportService: versions packed into tar, tar.gz or zip archives. */
  readonly exports: Client<typeof ExportService>;
  /** modelreg.v1.TaskService: tasks, their events, logs, metrics, checkpoints; templates; workers' view. */
  readonly tasks: Client<typeof TaskService>;
  /** modelreg.v1.TaskWorkerService: what workers call (the Node client's runWorker uses it). */
  readonly taskWorkers: Client<typeof TaskWorkerService>;
}

/** The service clients over `transport`, short names resolving in `workspace`. */
export function createServiceClients(transport: Transport, workspace: string): ServiceClients {
  return {
    workspace,
    models: createClient(ModelService, transport),
    versions: createClient(VersionService, transport),
    workspaces: createClient(WorkspaceService, transport),
    files: createClient(FileService, transport),
    exports: createClient(ExportService, transport),
    tasks: createClient(TaskService, transport),
    taskWorkers: createClient(TaskWorkerService, transport),
  };
}

export interface ExportLifecycleMembers {
  /**
   * Starts an export of a READY version (`model:1.0.0`, `model@alias` or a
   * full name) as "tar", "tar.gz" or "zip", or returns the one already
   * pending, running or done for that version and format (unless `force`).
   */
  startExport(version: string, format: ExportFormatName | ExportFormat, options?: StartExportOptions): Promise<Export>;
  /**
   * Polls the export (an Export, its name, or `model:version/uid`) until it
   * SUCCEEDED and resolves with it; rejects with ExportFailedError when it
   * FAILED (message: its error_message) or was CANCELLED, and with
   * DeadlineExceeded after `timeoutMs`.
   */
  waitForExport(exp: ExportRef, options?: WaitForExportOptions): Promise<Export>;
}

/** The version name a reference names: an alias (`model@alias`) is asked of the server. */
export function versionResolver(clients: Pick<ServiceClients, "versions" | "workspace">): (ref: string, signal?: AbortSignal) => Promise<string> {
  return async (ref, signal) => {
    const name = versionName(clients.workspace, ref);
    if (!isAliasName(name)) return name;
    const res = await clients.versions.getVersion({ ref: { case: "name", value: name } }, signal ? { signal } : {});
    return res.version!.name;
  };
}
