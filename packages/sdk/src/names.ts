// Short forms accepted by the SDK and CLI, expanded to resource names within
// the client's workspace:
//   "fraud-detector"        -> workspaces/{w}/models/fraud-detector
//   "fraud-detector:3.2.0"  -> workspaces/{w}/models/fraud-detector/versions/3.2.0
// Full resource names (starting with "workspaces/") pass through unchanged.

export function workspaceName(workspace: string): string {
  return workspace.startsWith("workspaces/") ? workspace : `workspaces/${workspace}`;
}

/** A model reference (short or full) as a model resource name. */
export function modelName(workspace: string, ref: string): string {
  if (ref.startsWith("workspaces/")) return ref;
  if (ref.includes(":")) throw new Error(`"${ref}" names a version; a model is named without ":version"`);
  return `${workspaceName(workspace)}/models/${ref}`;
}

/** A version reference `model:version` (or a full name) as a version resource name. */
export function versionName(workspace: string, ref: string): string {
  if (ref.startsWith("workspaces/")) return ref;
  const colon = ref.indexOf(":");
  if (colon <= 0 || colon === ref.length - 1) throw new Error(`"${ref}" is not a version reference: use model:version, e.g. fraud-detector:1.0.0`);
  return `${workspaceName(workspace)}/models/${ref.slice(0, colon)}/versions/${ref.slice(colon + 1)}`;
}

/** Splits `model[:version]`; version is undefined when absent. */
export function splitRef(ref: string): { model: string; version: string | undefined } {
  if (ref.startsWith("workspaces/")) {
    const parts = ref.split("/");
    return { model: parts.slice(0, 4).join("/"), version: parts[5] };
  }
  const colon = ref.indexOf(":");
  return colon < 0 ? { model: ref, version: undefined } : { model: ref.slice(0, colon), version: ref.slice(colon + 1) || undefined };
}
