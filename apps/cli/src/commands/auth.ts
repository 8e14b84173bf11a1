// `modelreg login`, `logout` and `whoami`: saving an access key (verified
// first) as a profile, forgetting it, and asking the server who you are.
import { GetServerInfoResponseSchema, Role } from "@modelreg/sdk";
import type { Command } from "commander";
import type { ContextFactory } from "../context.js";
import { checkToken, describeCredential, keyIdOf } from "../credentials.js";
import { UsageError } from "../exit-codes.js";
import { selectedProfile, type GlobalFlags } from "../global-options.js";
import type { Io } from "../io.js";
import { createOutput, messageJson } from "../output.js";
import { profilesPath, removeProfile, saveProfile } from "../profiles.js";
import { workspaceId } from "../refs.js";
import { renderServerInfo, roleName } from "../render-admin.js";

export function registerAuthCommands(program: Command, context: ContextFactory, io: Io): void {
  program
    .command("login")
    .description("check an access key with the server and save it, with the server and workspace, as a profile")
    .option("--access-key-stdin", "read the access key from standard input (first line)")
    .addHelpText(
      "after",
      `
The key comes from --access-key, else standard input (--access-key-stdin, or
whenever stdin is not a terminal), else a prompt that does not echo it.
MODELREG_ACCESS_KEY is not read: login saves the key it is given.
The profile (--profile, default "default") stores the server (--server, else
MODELREG_SERVER, else the profile's, else http://localhost:8080), the key, and
the workspace (--workspace, else the key's own). It is kept in
$XDG_CONFIG_HOME/modelreg/profiles.json (~/.config/modelreg unless
MODELREG_CONFIG_DIR is set), mode 0600.

Examples:
  modelreg login --server https://registry.example.com
  printf '%s\\n' "$TOKEN" | modelreg login --profile prod --server https://registry.example.com --access-key-stdin`,
    )
    .action(async (flags: { accessKeyStdin?: boolean }, cmd: Command) => {
      const given = cmd.optsWithGlobals<GlobalFlags>();
      if (given.accessKey !== undefined && flags.accessKeyStdin) throw new UsageError("give --access-key or --access-key-stdin, not both");
      const profileName = selectedProfile(cmd, io.env).name;
      const path = profilesPath(io);
      if (!path) throw new UsageError("no place to save the profile: set HOME or MODELREG_CONFIG_DIR");
      const token = await readAccessKey(io, given.accessKey, flags.accessKeyStdin ?? false);

      const { client, out, globals, note } = context(cmd, { accessKey: token, allowMissingProfile: true });
      const info = await client.workspaces.getServerInfo({});
      const keyWorkspace = info.workspace ? workspaceId(info.workspace) : undefined;
      const workspace = given.workspace !== undefined ? workspaceId(given.workspace) : keyWorkspace;
      if (given.workspace !== undefined && keyWorkspace && workspace !== keyWorkspace) {
        note(`warning: the key works only in workspaces/${keyWorkspace}; short names will resolve in ${workspace} and not be found`);
      }
      saveProfile(path, profileName, { server: globals.server, accessKey: token, ...(workspace ? { workspace } : {}) });

      const who = info.authEnabled
        ? `as ${info.user} (${info.workspace ? `${roleName(info.role)} in ${info.workspace}` : info.role === Role.ADMIN ? "server-wide admin" : roleName(info.role)}), key ${info.accessKeyId || keyIdOf(token)}`
        : "(the server runs without authentication: the key was not checked)";
      const use = profileName === "default" ? "commands use it unless --profile or MODELREG_PROFILE says otherwise" : `use it with --profile ${profileName} or MODELREG_PROFILE=${profileName}`;
      out.result(
        [
          `Logged in to ${globals.server} ${who}.`,
          `Saved profile "${profileName}" in ${path} (workspace: ${workspace ?? "default"}); ${use}.`,
        ].join("\n"),
        { profile: profileName, path, server: globals.server, workspace: workspace ?? "", serverInfo: messageJson(GetServerInfoResponseSchema, info) },
      );
    });

  program
    .command("logout")
    .description("forget a saved profile (--profile, default \"default\"); the key itself stays valid until revoked")
    .action((_flags: object, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const out = createOutput(flags.output, io, { quiet: flags.quiet ?? false });
      const { name } = selectedProfile(cmd, io.env);
      const path = profilesPath(io);
      const removed = path ? removeProfile(path, name) : false;
      if (!removed && !flags.quiet) io.stderr.write(`not logged in: there is no profile "${name}"${path ? ` in ${path}` : ""}\n`);
      if (removed || out.format !== "table") out.result(`Removed profile "${name}" from ${path}.`, { profile: name, removed, path: path ?? "" });
    });

  program
    .command("whoami")
    .description("show who the access key in use belongs to, its role and workspace, and the server")
    .action(async (_flags: object, cmd: Command) => {
      const { client, out, globals } = context(cmd);
      const info = await client.workspaces.getServerInfo({});
      out.one(GetServerInfoResponseSchema, info, (i) => renderServerInfo(i, globals.server, describeCredential(globals.credential)));
    });
}

/** The key login saves: the flag, else stdin (asked for, or not a terminal), else a prompt. */
async function readAccessKey(io: Io, flag: string | undefined, fromStdin: boolean): Promise<string> {
  if (flag !== undefined) return checkToken(flag.trim(), "--access-key");
  let text: string;
  let from: string;
  if (!fromStdin && io.promptSecret && io.stdin?.isTTY !== false) {
    text = await io.promptSecret("Access key (<key_id>.<secret>): ");
    from = "the prompt";
  } else {
    text = io.stdin ? await io.stdin.readAll() : "";
    from = "standard input";
  }
  const token = text.split(/\r?\n/).find((line) => line.trim() !== "")?.trim();
  if (!token) throw new UsageError(`no access key on ${from}: give --access-key, pipe it to --access-key-stdin, or run login in a terminal to be asked`);
  return checkToken(token, from);
}
