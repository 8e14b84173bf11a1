// The rules of workspaces that need no database: the shape of a workspace
// id, what an update may change, and which workspaces may be deleted.
import { FailedPreconditionError, InvalidArgumentError } from "../shared/errors.js";
import { resolveUpdateMask } from "../shared/update-mask.js";
import { checkCommonFields, checkPageSize, printable, Violations, WORKSPACE_ID } from "../shared/validation.js";

/** The workspace every install starts with. */
export const DEFAULT_WORKSPACE = "default";

/** The fields an update mask may name. */
export const UPDATABLE = ["description"] as const;

/** A create's arguments: a valid workspace id and description. */
export function checkCreate(workspaceId: string, description: string): void {
  const v = new Violations();
  if (!WORKSPACE_ID.test(workspaceId))
    v.add("workspace_id", `"${printable(workspaceId)}" is not a valid workspace id: use 1-63 lowercase letters, digits and '-', starting with a letter`);
  checkCommonFields(v, "workspace", { description });
  if (!v.empty) throw new InvalidArgumentError(v.list);
}

/** A list's page size, checked. */
export function checkList(pageSize: number): number {
  const v = new Violations();
  const limit = checkPageSize(v, pageSize);
  if (!v.empty) throw new InvalidArgumentError(v.list);
  return limit;
}

/** An update's mask, resolved, with the masked fields checked. */
export function checkUpdate(paths: string[], description: string): void {
  const mask = resolveUpdateMask(paths, UPDATABLE);
  const v = new Violations();
  if (mask.has("description")) checkCommonFields(v, "workspace", { description });
  if (!v.empty) throw new InvalidArgumentError(v.list);
}

/** The default workspace stays, so a single-team install always has one. */
export function checkDeletable(workspace: string): void {
  if (workspace === DEFAULT_WORKSPACE) throw new FailedPreconditionError("DEFAULT_WORKSPACE", "the default workspace cannot be deleted");
}

/** A workspace is deleted only once it holds no models. */
export function checkEmpty(workspace: string, models: number): void {
  if (models > 0)
    throw new FailedPreconditionError("WORKSPACE_NOT_EMPTY", `workspaces/${workspace} still holds ${models} model(s); delete them first`, { model_count: String(models) });
}
