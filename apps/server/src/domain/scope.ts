// The caller's scope: one workspace, or every workspace (null) for the
// server-wide admin key. Domain queries add it as a condition, so resources
// in other workspaces are exactly as invisible as resources that do not exist.
import { eq, type Column, type SQL } from "drizzle-orm";

export interface Scope {
  workspace: string | null;
}

/** Every workspace: the server-wide admin key, AUTH=off, and internal callers. */
export const ALL_WORKSPACES: Scope = { workspace: null };

export function inScope(scope: Scope, column: Column): SQL | undefined {
  return scope.workspace === null ? undefined : eq(column, scope.workspace);
}
