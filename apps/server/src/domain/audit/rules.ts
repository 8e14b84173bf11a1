// The rules of reading the audit log that need no database: what a list
// must carry, and whose log a caller may read.
import { InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import type { Scope } from "../shared/scope.js";
import { checkPageSize, Violations } from "../shared/validation.js";

/** The parent that names every workspace's log. */
export const ALL_WORKSPACES = "workspaces/-";

/** A list's arguments, checked: the workspace (undefined for every one) and the page size. */
export function checkList(parent: string, pageSize: number): { workspace: string | undefined; limit: number } {
  const v = new Violations();
  let workspace: string | undefined;
  if (parent !== ALL_WORKSPACES) {
    try {
      workspace = parseWorkspaceName("parent", parent).workspace;
    } catch (e) {
      if (!(e instanceof InvalidArgumentError)) throw e;
      v.list.push(...e.violations);
    }
  }
  const limit = checkPageSize(v, pageSize);
  if (!v.empty) throw new InvalidArgumentError(v.list);
  return { workspace, limit };
}

/** A caller reads its own workspace's log; every log, or all of them at once, only with the server-wide key. */
export function mayRead(scope: Scope, workspace: string | undefined): boolean {
  return scope.workspace === null || (workspace !== undefined && scope.workspace === workspace);
}

/** Another workspace's log, or all of them without the server-wide key, is simply not there. */
export function checkReadable(scope: Scope, parent: string, workspace: string | undefined): void {
  if (!mayRead(scope, workspace)) throw new NotFoundError("audit log", parent, `audit log of ${parent}`);
}
