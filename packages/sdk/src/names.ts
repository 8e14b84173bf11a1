// Short forms accepted by the SDK and CLI, expanded to resource names within
// the client's workspace:
//   "fraud-detector"             -> workspaces/{w}/models/fraud-detector
//   "fraud-detector:3.2.0"       -> workspaces/{w}/models/fraud-detector/versions/3.2.0
//   "fraud-detector@production"  -> workspaces/{w}/models/fraud-detector@production
//                                   (the version the alias points at when a call is served)
// Full resource names (starting with "workspaces/") pass through unchanged.

/** The model id that stands for every model of the workspace (`ListVersions` across models). */
export const ALL_MODELS = "-";

export function workspaceName(workspace: string): string {
  return workspace.startsWith("workspaces/") ? workspace : `workspaces/${workspace}`;
}

/** A model reference (short or full) as a model resource name; `-` is every model of the workspace. */
export function modelName(workspace: string, ref: string): string {
  if (ref.startsWith("workspaces/")) return ref;
  if (ref.includes(":") || ref.includes("@")) throw new Error(`"${ref}" names a version; a model is named without ":version" or "@alias"`);
  return `${workspaceName(workspace)}/models/${ref}`;
}

/** A version reference `model:version` or `model@alias` (or a full name) as a version resource name. */
export function versionName(workspace: string, ref: string): string {
  if (ref.startsWith("workspaces/")) return ref;
  const { model, version, alias } = splitRef(ref);
  if (model === "" || (version === undefined) === (alias === undefined) || version === "" || alias === "") {
    throw new Error(`"${ref}" is not a version reference: use model:version or model@alias, e.g. fraud-detector:1.0.0 or fraud-detector@production`);
  }
  const parent = `${workspaceName(workspace)}/models/${model}`;
  return alias !== undefined ? `${parent}@${alias}` : `${parent}/versions/${version}`;
}

/** Whether a version resource name names it through an alias (`.../models/{m}@{alias}`). */
export function isAliasName(name: string): boolean {
  return /^workspaces\/[^/]+\/models\/[^/@]+@[^/]+$/.test(name);
}

/**
 * Splits `model[:version]` or `model@alias` (short or full names). `version`
 * and `alias` are undefined when absent, and "" when the separator ends the
 * reference (`fraud:`).
 */
export function splitRef(ref: string): { model: string; version: string | undefined; alias?: string } {
  if (ref.startsWith("workspaces/")) {
    const parts = ref.split("/");
    const last = parts[3] ?? "";
    const at = last.indexOf("@");
    if (parts.length === 4 && at >= 0) return { model: [...parts.slice(0, 3), last.slice(0, at)].join("/"), version: undefined, alias: last.slice(at + 1) };
    return { model: parts.slice(0, 4).join("/"), version: parts[5] };
  }
  const colon = ref.indexOf(":");
  const at = ref.indexOf("@");
  if (at >= 0 && (colon < 0 || at < colon)) return { model: ref.slice(0, at), version: undefined, alias: ref.slice(at + 1) };
  return colon < 0 ? { model: ref, version: undefined } : { model: ref.slice(0, colon), version: ref.slice(colon + 1) || undefined };
}
