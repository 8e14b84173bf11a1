// Turning what the user typed into resource names. Short forms (`fraud`,
// `fraud:1.0.0`) resolve in the workspace through the SDK; full names
// (`workspaces/w/models/fraud[/versions/1.0.0]`) pass through. A reference
// of the wrong shape is a usage error (exit 2), caught before any call.
import { splitRef, type RegistryClient } from "@modelreg/sdk";
import { UsageError } from "./exit-codes.js";

const FULL_MODEL = /^(workspaces\/[^/]+)\/models\/([^/]+)$/;

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `fraud` or `workspaces/w/models/fraud` -> the model's resource name. */
export function modelRef(client: RegistryClient, ref: string): string {
  return usage(() => client.modelName(ref));
}

/** `fraud:1.0.0` or a full version name -> the version's resource name. */
export function versionRef(client: RegistryClient, ref: string): string {
  return usage(() => client.versionName(ref));
}

/** Where `models create <name>` creates: the workspace and the model id. */
export function modelTarget(client: RegistryClient, ref: string): { parent: string; modelId: string } {
  const name = modelRef(client, ref);
  const m = FULL_MODEL.exec(name);
  if (!m) throw new UsageError(`"${ref}" is not a model name: use a short name such as fraud-detector, or workspaces/{workspace}/models/{model}`);
  return { parent: m[1]!, modelId: m[2]! };
}

/** Where `versions create <model>[:<version>]` creates; an empty version id lets the server assign the next one. */
export function versionTarget(client: RegistryClient, ref: string): { parent: string; versionId: string } {
  const { model, version, alias } = splitRef(ref);
  if (alias !== undefined) throw new UsageError(`"${ref}" names a version through an alias; to create a version, use model[:version], e.g. fraud-detector:1.0.0`);
  if (model === "") throw new UsageError(`"${ref}" names no model: use model[:version], e.g. fraud-detector or fraud-detector:1.0.0`);
  const parent = modelRef(client, model);
  if (!FULL_MODEL.test(parent)) throw new UsageError(`"${ref}" is not a model or version name: use model[:version] or workspaces/{workspace}/models/{model}[/versions/{version}]`);
  return { parent, versionId: version ?? "" };
}

const FULL_WORKSPACE = /^workspaces\/([^/]+)$/;
const FULL_KEY = /^workspaces\/[^/]+\/accessKeys\/[^/]+$/;

/** `team-a` or `workspaces/team-a` -> `team-a`. */
export function workspaceId(ref: string): string {
  const id = ref.startsWith("workspaces/") ? FULL_WORKSPACE.exec(ref)?.[1] : ref;
  if (!id || id.includes("/") || id === "-") throw new UsageError(`"${ref}" is not a workspace: use its id (team-a) or workspaces/{workspace}`);
  return id;
}

/** `team-a` or `workspaces/team-a` -> `workspaces/team-a`. */
export function workspaceRef(ref: string): string {
  return `workspaces/${workspaceId(ref)}`;
}

/** A bare key id (in `workspace`) or `workspaces/{w}/accessKeys/{key_id}` -> the key's resource name. */
export function accessKeyRef(workspace: string, ref: string): string {
  if (ref.startsWith("workspaces/")) {
    if (!FULL_KEY.test(ref)) throw new UsageError(`"${ref}" is not an access key: use its key id (AK...) or workspaces/{workspace}/accessKeys/{key_id}`);
    return ref;
  }
  // Checked first, so a whole token pasted by mistake is not echoed.
  if (ref.includes(".")) throw new UsageError("give the key id (the part before the dot), not the whole token");
  if (ref === "" || ref.includes("/")) throw new UsageError(`"${ref}" is not an access key: use its key id (AK...) or workspaces/{workspace}/accessKeys/{key_id}`);
  return `${workspaceRef(workspace)}/accessKeys/${ref}`;
}

/** `train-3f9a0c1e` or `workspaces/{w}/tasks/{task}` -> the task's resource name. */
export function taskRef(client: RegistryClient, ref: string): string {
  return usage(() => client.taskName(ref));
}

/** A checkpoint of `task`: its epoch (`5`) or its full name (`workspaces/{w}/tasks/{t}/checkpoints/5`). */
export function checkpointRef(task: string, ref: string): string {
  if (/^\d+$/.test(ref)) return `${task}/checkpoints/${Number(ref)}`;
  if (!/^workspaces\/[^/]+\/tasks\/[^/]+\/checkpoints\/\d+$/.test(ref)) throw new UsageError(`"${ref}" is not a checkpoint: use its epoch (5) or workspaces/{w}/tasks/{task}/checkpoints/{epoch}`);
  return ref;
}

/** A worker's id (`gpu-box-1`, in `workspace`) or its full name -> `workspaces/{w}/workers/{worker}`. */
export function workerRef(workspace: string, ref: string): string {
  if (ref.startsWith("workspaces/")) {
    if (!/^workspaces\/[^/]+\/workers\/[^/]+$/.test(ref)) throw new UsageError(`"${ref}" is not a worker: use its id (gpu-box-1) or workspaces/{workspace}/workers/{worker}`);
    return ref;
  }
  if (ref === "" || ref.includes("/")) throw new UsageError(`"${ref}" is not a worker: use its id (gpu-box-1) or workspaces/{workspace}/workers/{worker}`);
  return `${workspaceRef(workspace)}/workers/${ref}`;
}
