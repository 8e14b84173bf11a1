// `modelreg keys ...`: create, list, revoke and rotate the access keys of a
// workspace (admin role). A new key's token is printed once, when it is
// created or rotated: the server keeps only a hash of its secret.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AccessKeySchema, CreateAccessKeyResponseSchema, paginate, Role, RotateAccessKeyResponseSchema, workspaceName } from "@modelreg/sdk";
import { Option, type Command } from "commander";
import type { ContextFactory } from "../context.js";
import { parseExpires } from "../expires.js";
import { accessKeyRef } from "../refs.js";
import { newKeyWarning, renderAccessKey, renderAccessKeysTable, renderNewKey } from "../render-admin.js";
import { descriptionOption, limitOption, pageSizeFor, pageSizeOption, take, type ListFlags } from "./options.js";

const roles = { viewer: Role.VIEWER, editor: Role.EDITOR, admin: Role.ADMIN, worker: Role.WORKER } as const;
type RoleChoice = keyof typeof roles;

export function registerKeyCommands(program: Command, context: ContextFactory): void {
  const keys = program
    .command("keys")
    .alias("key")
    .description("create, list, revoke and rotate access keys of a workspace (admin role)")
    .addHelpText(
      "after",
      `\nKeys: a key id (AKJ3Q4M7V2ZC6N8P) in --workspace, or workspaces/{workspace}/accessKeys/{key_id}.\nThe token (<key_id>.<secret>) is shown once, by create and rotate; store it then.`,
    );

  keys
    .command("create <user>")
    .description("create an access key for a user or service in --workspace; prints its token once")
    .addOption(new Option("--role <role>", "what the key may do (required)").choices(Object.keys(roles)).makeOptionMandatory())
    .addOption(
      new Option(
        "--expires <when>",
        "when the key stops working: a time (2026-12-31, 2026-12-31T18:00:00Z; without a zone, local time) or a duration from now (30d, 12h, 90m, 2w) (default: never)",
      ),
    )
    .addOption(descriptionOption())
    .action(async (user: string, flags: { role: RoleChoice; expires?: string; description?: string }, cmd: Command) => {
      const { client, out, note, now, globals } = context(cmd);
      const expireTime = flags.expires !== undefined ? timestampFromDate(parseExpires(flags.expires, now())) : undefined;
      const res = await client.workspaces.createAccessKey({
        parent: workspaceName(globals.workspace),
        accessKey: { user, role: roles[flags.role], description: flags.description ?? "", ...(expireTime ? { expireTime } : {}) },
      });
      out.one(CreateAccessKeyResponseSchema, res, (r) => renderNewKey(r.accessKey!, r.token, now()));
      note(newKeyWarning(res.accessKey!));
    });

  keys
    .command("list")
    .alias("ls")
    .description("list the access keys of --workspace (never their secrets), newest first")
    .option("--all", "include revoked keys")
    .addOption(limitOption())
    .addOption(pageSizeOption())
    .action(async (flags: ListFlags & { all?: boolean }, cmd: Command) => {
      const { client, out, now, globals } = context(cmd);
      const parent = workspaceName(globals.workspace);
      const pageSize = pageSizeFor(flags) ?? 0;
      const items = await take(
        paginate(async (pageToken) => {
          const res = await client.workspaces.listAccessKeys({ parent, pageSize, pageToken, showRevoked: flags.all ?? false });
          return { items: res.accessKeys, nextPageToken: res.nextPageToken };
        }),
        flags.limit,
      );
      out.list(AccessKeySchema, items, (ks, o) => renderAccessKeysTable(ks, { ...o, now: now() }), `no ${flags.all ? "" : "active or expired "}access keys in ${parent}`);
    });

  keys
    .command("revoke <key>")
    .description("revoke an access key at once")
    .action(async (ref: string, _flags: object, cmd: Command) => {
      const { client, out, now, globals } = context(cmd);
      const res = await client.workspaces.revokeAccessKey({ name: accessKeyRef(globals.workspace, ref) });
      out.one(AccessKeySchema, res.accessKey!, (k) => renderAccessKey(k, now()));
    });

  keys
    .command("rotate <key>")
    .description("replace an access key with a new one (same user, role and expiry) and revoke the old one; prints the new token once")
    .action(async (ref: string, _flags: object, cmd: Command) => {
      const { client, out, note, now, globals } = context(cmd);
      const name = accessKeyRef(globals.workspace, ref);
      const res = await client.workspaces.rotateAccessKey({ name });
      out.one(RotateAccessKeyResponseSchema, res, (r) => renderNewKey(r.accessKey!, r.token, now()));
      note(`revoked ${name}; it is replaced by ${res.accessKey!.keyId}\n${newKeyWarning(res.accessKey!)}`);
    });
}
