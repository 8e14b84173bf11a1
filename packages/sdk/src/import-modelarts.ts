// registry.importModelArts(): a ModelArts import request, created as a
// version (and, when asked, its model) in the client's workspace.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Version } from "@modelreg/proto";
import type { RegistryClient } from "./client.js";
import { modelArtsToVersion } from "./modelarts.js";

export interface ImportModelArtsOptions {
  /** Create the model (`model_name`) when it does not exist (default: false; the import then fails with NotFound). */
  createModel?: boolean | undefined;
  /** Makes the version's creation idempotent: a retry with the same id returns the version the first call created. */
  requestId?: string | undefined;
  signal?: AbortSignal | undefined;
}

export async function importModelArts(client: RegistryClient, request: object | string, options: ImportModelArtsOptions = {}): Promise<Version> {
  const { modelId, versionId, version } = modelArtsToVersion(request);
  const parent = client.modelName(modelId);
  const call = options.signal ? { signal: options.signal } : {};
  if (options.createModel) {
    try {
      await client.models.createModel({ parent: `workspaces/${client.workspace}`, modelId }, call);
    } catch (err) {
      // There already: import into it.
      if (!(err instanceof ConnectError && err.code === Code.AlreadyExists)) throw err;
    }
  }
  const res = await client.versions.createVersion({ parent, versionId, version, requestId: options.requestId ?? "" }, call);
  return res.version!;
}
