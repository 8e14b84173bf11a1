// Workspaces. Management RPCs come with tenancy; for now the `default`
// workspace is created at start so a single-team install needs no setup.
import { workspaces, type Database } from "@modelreg/db";

export const DEFAULT_WORKSPACE = "default";

export async function ensureDefaultWorkspace(db: Database): Promise<void> {
  await db.insert(workspaces).values({ name: DEFAULT_WORKSPACE, description: "The workspace every install starts with." }).onConflictDoNothing();
}
