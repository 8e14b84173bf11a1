// `modelreg audit list`: the audit log of mutating calls (admin role),
// newest first.
import { AuditEventSchema, workspaceName } from "@modelreg/sdk";
import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { renderAuditTable } from "../render-admin.js";
import { limitOption, pageSizeFor, pageSizeOption, take, type ListFlags } from "./options.js";

export function registerAuditCommands(program: Command, context: ContextFactory): void {
  const audit = program.command("audit").description("read the audit log (admin role)");

  audit
    .command("list")
    .alias("ls")
    .description("list audit events of --workspace, newest first")
    .option("--filter <expr>", 'AIP-160 filter over user, access_key_id, method, resource, code, request_id and time, e.g. \'user = "alice" AND code != "ok"\'')
    .option("--all-workspaces", "events of every workspace (server-wide admin key only)")
    .addOption(limitOption())
    .addOption(pageSizeOption())
    .addHelpText(
      "after",
      `\nExamples:\n  modelreg audit list --limit 20\n  modelreg audit list --filter 'method = "modelreg.v1.ModelService/DeleteModel" AND time >= "2026-11-20T00:00:00Z"'\n  modelreg audit list --all-workspaces --filter 'code = "permission_denied"' -o json`,
    )
    .action(async (flags: ListFlags & { filter?: string; allWorkspaces?: boolean }, cmd: Command) => {
      const { client, out, globals } = context(cmd);
      const parent = flags.allWorkspaces ? "workspaces/-" : workspaceName(globals.workspace);
      const pageSize = pageSizeFor(flags);
      const items = await take(
        client.listAllAuditEvents({ parent, ...(flags.filter !== undefined ? { filter: flags.filter } : {}), ...(pageSize ? { pageSize } : {}) }),
        flags.limit,
      );
      out.list(AuditEventSchema, items, renderAuditTable, `no audit events${flags.filter ? " match the filter" : ""} in ${flags.allWorkspaces ? "any workspace" : parent}`);
    });
}
