// Workspaces (tenants): create, get, list, update, delete. The `default`
// workspace is created at start so a single-team install needs no setup.
import type { Database } from "@modelreg/db";
import { isForeignKeyViolation, isUniqueViolation } from "../shared/db-errors.js";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "../shared/errors.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import type { Scope } from "../shared/scope.js";
import { checkCreate, checkDeletable, checkEmpty, checkList, checkUpdate, DEFAULT_WORKSPACE } from "./rules.js";
import * as q from "./sql.js";
import { toWorkspace, type Workspace, type WorkspacePage, type WorkspaceRow } from "./types.js";

export type { Workspace, WorkspacePage } from "./types.js";
export { DEFAULT_WORKSPACE } from "./rules.js";

export interface WorkspacesDomain {
  /** Creates a workspace (server-wide key only; the contract says so). */
  create(workspaceId: string, description: string): Promise<Workspace>;
  /** The workspace by resource name. */
  get(scope: Scope, name: string): Promise<Workspace>;
  /** One page of the workspaces in scope, by name. */
  list(scope: Scope, pageSize: number, pageToken: string): Promise<WorkspacePage>;
  /** Changes the fields in the mask. */
  update(scope: Scope, name: string, paths: string[], description: string): Promise<Workspace>;
  /** Deletes a workspace that holds no models, with its access keys; never the default one. */
  delete(scope: Scope, name: string): Promise<void>;
}

export function createWorkspacesDomain(db: Database): WorkspacesDomain {
  return {
    create: (workspaceId, description) => createWorkspace(db, workspaceId, description),
    get: async (scope, name) => toWorkspace(await find(db, scope, name)),
    list: (scope, pageSize, pageToken) => listWorkspaces(db, scope, pageSize, pageToken),
    update: (scope, name, paths, description) => updateWorkspace(db, scope, name, paths, description),
    delete: (scope, name) => deleteWorkspace(db, scope, name),
  };
}

export async function ensureDefaultWorkspace(db: Database): Promise<void> {
  await q.insertIfMissing(db, DEFAULT_WORKSPACE, "The workspace every install starts with.");
}

/**
 * The workspace, if it exists and the caller's scope includes it; otherwise
 * NOT_FOUND, the same answer either way.
 */
export async function requireWorkspace(db: Database, scope: Scope, workspace: string): Promise<WorkspaceRow> {
  const row = await q.selectInScope(db, scope, workspace);
  if (!row) throw new NotFoundError("workspace", `workspaces/${workspace}`);
  return row;
}

const find = (db: Database, scope: Scope, name: string) => requireWorkspace(db, scope, parseWorkspaceName("name", name).workspace);

async function createWorkspace(db: Database, workspaceId: string, description: string): Promise<Workspace> {
  checkCreate(workspaceId, description);
  try {
    return toWorkspace(await q.insertWorkspace(db, workspaceId, description));
  } catch (e) {
    if (isUniqueViolation(e)) throw new AlreadyExistsError("workspace", `workspaces/${workspaceId}`);
    throw e;
  }
}

async function listWorkspaces(db: Database, scope: Scope, pageSize: number, pageToken: string): Promise<WorkspacePage> {
  const limit = checkList(pageSize);
  const fp = queryFingerprint("workspaces", scope.workspace ?? "*");
  const after = decodePageToken(pageToken, fp, 1);
  const rows = await q.selectPage(db, scope, after, limit);
  const page = pageOf(rows, limit, fp, (w) => [w.name]);
  return { workspaces: page.rows.map(toWorkspace), nextPageToken: page.nextPageToken };
}

async function updateWorkspace(db: Database, scope: Scope, name: string, paths: string[], description: string): Promise<Workspace> {
  checkUpdate(paths, description);
  const row = await find(db, scope, name);
  return toWorkspace(await q.updateDescription(db, row.name, description));
}

async function deleteWorkspace(db: Database, scope: Scope, name: string): Promise<void> {
  const row = await find(db, scope, name);
  checkDeletable(row.name);
  try {
    await db.transaction(async (tx) => {
      checkEmpty(row.name, await q.countModels(tx, row.name));
      await q.deleteWithKeys(tx, row.name);
    });
  } catch (e) {
    // A model created after the count but before the delete trips the foreign key.
    if (isForeignKeyViolation(e)) throw new FailedPreconditionError("WORKSPACE_NOT_EMPTY", `workspaces/${row.name} still holds models; delete them first`);
    throw e;
  }
}
