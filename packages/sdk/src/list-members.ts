// The client members that only read through the service clients: short
// names expanded in the client's workspace, and every page of a List RPC as
// one async iterable. Shared by the Node client (client.ts) and the browser
// one (browser/client.ts); no node: module here.
import type { CallOptions, Client } from "@connectrpc/connect";
import type { AuditEvent, Export, ExportService, FileService, Model, ModelService, Version, VersionFile, VersionService, WorkspaceService } from "@modelreg/proto";
import { exportName } from "./exports/names.js";
import { modelName, splitRef, versionName, workspaceName } from "./names.js";
import { paginate } from "./paginate.js";

/** What the listAll helpers pass to a List call besides the parent and page token. */
export interface ListRequest {
  /** AIP-160 filter; the fields each list takes are in the proto comments of ListModelsRequest/ListVersionsRequest. */
  filter?: string | undefined;
  /** e.g. `create_time desc`, `metrics.f1 desc`. */
  orderBy?: string | undefined;
  /** Items per page (server default 50, at most 1,000). */
  pageSize?: number | undefined;
}

/** The service clients the list members read through. */
export interface ListClients {
  models: Client<typeof ModelService>;
  versions: Client<typeof VersionService>;
  workspaces: Client<typeof WorkspaceService>;
  files: Client<typeof FileService>;
  exports: Client<typeof ExportService>;
}

export interface ListMembers {
  /** `fraud` -> `workspaces/{w}/models/fraud`. */
  modelName(ref: string): string;
  /** `fraud:1.0.0` -> `workspaces/{w}/models/fraud/versions/1.0.0`. */
  versionName(ref: string): string;
  /** `fraud:1.0.0/{uid}` -> `workspaces/{w}/models/fraud/versions/1.0.0/exports/{uid}`. */
  exportName(ref: string): string;
  /**
   * Every model of the workspace matching `filter` (AIP-160, e.g.
   * `labels.team = "risk"`), in `orderBy` order (default by name), fetching
   * pages as needed; options apply to each page's call.
   */
  listAllModels(request?: ListRequest, options?: CallOptions): AsyncIterable<Model>;
  /**
   * Every version of a model (short or full name), or of every model of the
   * workspace with `"-"` (ALL_MODELS), matching `filter` (e.g.
   * `metrics.f1 > 0.85 AND labels.dataset = "2026-10"`), in `orderBy` order
   * (e.g. `metrics.f1 desc`; default newest first for one model, by creation
   * time across models); archived versions only when the filter names
   * `lifecycle`. Options apply to each page's call.
   */
  listAllVersions(model: string, request?: ListRequest, options?: CallOptions): AsyncIterable<Version>;
  /** Every file of a READY version (short or full name), by path; options apply to each page's call. */
  listAllFiles(version: string, request?: { pageSize?: number | undefined }, options?: CallOptions): AsyncIterable<VersionFile>;
  /** Every audit event of the workspace (or `workspaces/-`), newest first, matching `filter`. */
  listAllAuditEvents(request?: { parent?: string | undefined; filter?: string | undefined; pageSize?: number | undefined }, options?: CallOptions): AsyncIterable<AuditEvent>;
  /**
   * Every export of a version (`model:version`, `model@alias`, a full name)
   * or, given a model, of all its versions, newest first, matching `filter`
   * (e.g. `state = SUCCEEDED AND format = TAR_GZ`).
   */
  listAllExports(ref: string, request?: { filter?: string | undefined; pageSize?: number | undefined }, options?: CallOptions): AsyncIterable<Export>;
}

export function createListMembers(c: ListClients, workspace: string): ListMembers {
  return {
    modelName: (ref) => modelName(workspace, ref),
    versionName: (ref) => versionName(workspace, ref),
    exportName: (ref) => exportName(workspace, ref),
    listAllModels: (request = {}, callOptions) =>
      paginate(async (pageToken) => {
        const res = await c.models.listModels({ parent: workspaceName(workspace), ...listFields(request), pageToken }, callOptions);
        return { items: res.models, nextPageToken: res.nextPageToken };
      }),
    listAllVersions: (model, request = {}, callOptions) =>
      paginate(async (pageToken) => {
        const res = await c.versions.listVersions({ ...listFields(request), parent: modelName(workspace, model), pageToken }, callOptions);
        return { items: res.versions, nextPageToken: res.nextPageToken };
      }),
    listAllFiles: (version, request = {}, callOptions) =>
      paginate(async (pageToken) => {
        const res = await c.files.listVersionFiles({ ...listFields(request), version: { case: "name", value: versionName(workspace, version) }, pageToken }, callOptions);
        return { items: res.files, nextPageToken: res.nextPageToken };
      }),
    listAllAuditEvents: (request = {}, callOptions) =>
      paginate(async (pageToken) => {
        const res = await c.workspaces.listAuditEvents({ ...listFields(request), parent: request.parent ?? workspaceName(workspace), pageToken }, callOptions);
        return { items: res.auditEvents, nextPageToken: res.nextPageToken };
      }),
    listAllExports: (ref, request = {}, callOptions) => {
      const { version, alias } = splitRef(ref);
      const parent = version !== undefined || alias !== undefined ? versionName(workspace, ref) : `${modelName(workspace, ref)}/versions/-`;
      return paginate(async (pageToken) => {
        const res = await c.exports.listExports({ ...listFields(request), parent, pageToken }, callOptions);
        return { items: res.exports, nextPageToken: res.nextPageToken };
      });
    },
  };
}

/** The fields of a list request that are set (an explicit undefined means the default, as if left out). */
function listFields(request: ListRequest): { filter?: string; orderBy?: string; pageSize?: number } {
  return {
    ...(request.filter !== undefined ? { filter: request.filter } : {}),
    ...(request.orderBy !== undefined ? { orderBy: request.orderBy } : {}),
    ...(request.pageSize !== undefined ? { pageSize: request.pageSize } : {}),
  };
}
