// `modelreg workspaces ...`: create, get, list, update and delete workspaces
// (tenants). Creating and deleting need the server-wide admin key; a
// workspace key sees only its own workspace.
import { paginate, WorkspaceSchema } from "@modelreg/sdk";
import { Option, type Command } from "commander";
import type { ContextFactory } from "../context.js";
import { workspaceId, workspaceRef } from "../refs.js";
import { renderWorkspace, renderWorkspacesTable } from "../render-admin.js";
import { descriptionOption, limitOption, pageSizeFor, pageSizeOption, take, type ListFlags } from "./options.js";

export function registerWorkspaceCommands(program: Command, context: ContextFactory): void {
  const workspaces = program
    .command("workspaces")
    .alias("workspace")
    .description("create, inspect, change and delete workspaces (tenants)")
    .addHelpText("after", `\nIds: team-a or workspaces/team-a. Creating and deleting workspaces needs the server-wide admin key.`);

  workspaces
    .command("create <id>")
    .description("create a workspace (server-wide admin key only)")
    .addOption(descriptionOption())
    .action(async (id: string, flags: { description?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const res = await client.workspaces.createWorkspace({ workspaceId: workspaceId(id), workspace: { description: flags.description ?? "" } });
      out.one(WorkspaceSchema, res.workspace!, renderWorkspace);
    });

  workspaces
    .command("get <id>")
    .description("show one workspace")
    .action(async (id: string, _flags: object, cmd: Command) => {
      const { client, out } = context(cmd);
      const res = await client.workspaces.getWorkspace({ name: workspaceRef(id) });
      out.one(WorkspaceSchema, res.workspace!, renderWorkspace);
    });

  workspaces
    .command("list")
    .alias("ls")
    .description("list the workspaces you can see (all of them with the server-wide admin key), by name")
    .addOption(limitOption())
    .addOption(pageSizeOption())
    .action(async (flags: ListFlags, cmd: Command) => {
      const { client, out } = context(cmd);
      const pageSize = pageSizeFor(flags) ?? 0;
      const items = await take(
        paginate(async (pageToken) => {
          const res = await client.workspaces.listWorkspaces({ pageSize, pageToken });
          return { items: res.workspaces, nextPageToken: res.nextPageToken };
        }),
        flags.limit,
      );
      out.list(WorkspaceSchema, items, renderWorkspacesTable, "no workspaces");
    });

  workspaces
    .command("update <id>")
    .description("change a workspace's description")
    .addOption(new Option("--description <text>", "the new description (\"\" clears it)").makeOptionMandatory())
    .action(async (id: string, flags: { description: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const res = await client.workspaces.updateWorkspace({
        workspace: { name: workspaceRef(id), description: flags.description },
        updateMask: { paths: ["description"] },
      });
      out.one(WorkspaceSchema, res.workspace!, renderWorkspace);
    });

  workspaces
    .command("delete <id>")
    .alias("rm")
    .description("delete a workspace and its access keys (refused while it has models, and for default; server-wide admin key only)")
    .action(async (id: string, _flags: object, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = workspaceRef(id);
      await client.workspaces.deleteWorkspace({ name });
      out.deleted("workspace", name);
    });
}
