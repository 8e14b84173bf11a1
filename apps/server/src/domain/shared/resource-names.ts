// Parsing of resource names: workspaces/{w}, workspaces/{w}/models/{m},
// workspaces/{w}/models/{m}/versions/{v}.
import { InvalidArgumentError } from "./errors.js";
import { parseSemver } from "./semver.js";
import { MODEL_ID, WORKSPACE_ID, printable } from "./validation.js";

export interface WorkspaceName {
  workspace: string;
}
export interface ModelName extends WorkspaceName {
  model: string;
}
export interface VersionName extends ModelName {
  version: string;
}

const WORKSPACE_FORM = "workspaces/{workspace}";
const MODEL_FORM = "workspaces/{workspace}/models/{model}";
const VERSION_FORM = "workspaces/{workspace}/models/{model}/versions/{version}";

function bad(field: string, value: string, form: string, why?: string): InvalidArgumentError {
  const shown = value === "" ? "is required" : `"${printable(value)}" is not a valid name`;
  return InvalidArgumentError.field(field, `${shown}: expected ${form}${why ? ` (${why})` : ""}`);
}

function checkWorkspace(field: string, value: string, form: string, workspace: string): void {
  if (!WORKSPACE_ID.test(workspace))
    throw bad(field, value, form, "workspace ids are 1-63 lowercase letters, digits and '-', starting with a letter");
}

function checkModel(field: string, value: string, form: string, model: string): void {
  if (!MODEL_ID.test(model))
    throw bad(field, value, form, "model names are 1-64 letters, digits, '-' and '_', starting with a letter");
}

export function parseWorkspaceName(field: string, value: string): WorkspaceName {
  const parts = value.split("/");
  if (parts.length !== 2 || parts[0] !== "workspaces") throw bad(field, value, WORKSPACE_FORM);
  checkWorkspace(field, value, WORKSPACE_FORM, parts[1]!);
  return { workspace: parts[1]! };
}

export function parseModelName(field: string, value: string): ModelName {
  const parts = value.split("/");
  if (parts.length !== 4 || parts[0] !== "workspaces" || parts[2] !== "models") throw bad(field, value, MODEL_FORM);
  checkWorkspace(field, value, MODEL_FORM, parts[1]!);
  checkModel(field, value, MODEL_FORM, parts[3]!);
  return { workspace: parts[1]!, model: parts[3]! };
}

export function parseVersionName(field: string, value: string): VersionName {
  const parts = value.split("/");
  if (parts.length !== 6 || parts[0] !== "workspaces" || parts[2] !== "models" || parts[4] !== "versions")
    throw bad(field, value, VERSION_FORM);
  checkWorkspace(field, value, VERSION_FORM, parts[1]!);
  checkModel(field, value, VERSION_FORM, parts[3]!);
  const problem = parseSemver(parts[5]!).error;
  if (problem) throw bad(field, value, VERSION_FORM, problem);
  return { workspace: parts[1]!, model: parts[3]!, version: parts[5]! };
}

export const modelResourceName = (workspace: string, model: string): string => `workspaces/${workspace}/models/${model}`;
export const versionResourceName = (workspace: string, model: string, version: string): string =>
  `workspaces/${workspace}/models/${model}/versions/${version}`;

/** An alias: 1-63 lowercase letters, digits, `-` and `_`, starting with a letter. */
export const ALIAS = /^[a-z][a-z0-9_-]{0,62}$/;

export interface AliasName extends ModelName {
  alias: string;
}

/** A version named directly, or through an alias of its model. */
export type VersionRefName = ({ kind: "version" } & VersionName) | ({ kind: "alias" } & AliasName);

const VERSION_OR_ALIAS_FORM = `${VERSION_FORM} or workspaces/{workspace}/models/{model}@{alias}`;

/** `workspaces/{w}/models/{m}/versions/{v}`, or `workspaces/{w}/models/{m}@{alias}` for the version the alias points at. */
export function parseVersionRefName(field: string, value: string): VersionRefName {
  const parts = value.split("/");
  if (parts.length === 4 && parts[0] === "workspaces" && parts[2] === "models" && parts[3]!.includes("@")) {
    const [model, alias] = parts[3]!.split("@", 2) as [string, string];
    checkWorkspace(field, value, VERSION_OR_ALIAS_FORM, parts[1]!);
    checkModel(field, value, VERSION_OR_ALIAS_FORM, model);
    if (!ALIAS.test(alias) || parts[3]!.indexOf("@") !== parts[3]!.lastIndexOf("@"))
      throw bad(field, value, VERSION_OR_ALIAS_FORM, "aliases are 1-63 lowercase letters, digits, '-' and '_', starting with a letter");
    return { kind: "alias", workspace: parts[1]!, model, alias };
  }
  try {
    return { kind: "version", ...parseVersionName(field, value) };
  } catch {
    throw bad(field, value, VERSION_OR_ALIAS_FORM);
  }
}

export const taskResourceName = (workspace: string, taskId: string): string => `workspaces/${workspace}/tasks/${taskId}`;

export const aliasResourceName = (workspace: string, model: string, alias: string): string => `workspaces/${workspace}/models/${model}@${alias}`;
