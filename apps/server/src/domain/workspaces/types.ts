// Workspaces as the domain hands them out, and their mapping from the
// workspaces row.
import type { WorkspaceRow } from "@modelreg/db";

export type { WorkspaceRow } from "@modelreg/db";

export interface Workspace {
  name: string;
  uid: string;
  description: string;
  createTime: Date;
  updateTime: Date;
}

export interface WorkspacePage {
  workspaces: Workspace[];
  nextPageToken: string;
}

export function toWorkspace(row: WorkspaceRow): Workspace {
  return { name: `workspaces/${row.name}`, uid: row.uid, description: row.description, createTime: row.createTime, updateTime: row.updateTime };
}
