// `modelreg aliases ...`: point stable names (production, staging) at
// versions of a model, move them, remove them, list them. A version can then
// be named `model@alias` anywhere the CLI takes model:version.
import { AliasSchema, type Alias } from "@modelreg/sdk";
import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { keyValues, table, time } from "../output.js";
import { modelRef } from "../refs.js";

export function registerAliasCommands(program: Command, context: (cmd: Command) => CommandContext): void {
  const aliases = program
    .command("aliases")
    .alias("alias")
    .description("point aliases (production, staging, ...) of a model at its versions")
    .addHelpText("after", "\nAfter `modelreg aliases set fraud-detector production 1.2.0`, fraud-detector@production names version 1.2.0 in get, update, delete, files, pull and push.");

  aliases
    .command("set <model> <alias> <version>")
    .description("create the alias or move it to <version> (a version identifier such as 1.2.0; the version must be active), in one step")
    .option("--protected", "only admins may move or remove it afterwards (setting it needs an admin key)")
    .option("--expect <version>", 'move only if the alias points at <version> now; "-" = only if it does not exist yet (else exit 20)')
    .action(async (model: string, alias: string, version: string, flags: { protected?: boolean; expect?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      if (version.includes(":") || version.includes("/") || version.includes("@")) {
        throw new UsageError(`"${version}" is not a version identifier: give the version alone, e.g. 1.2.0`);
      }
      const res = await client.models.setAlias({ model: modelRef(client, model), alias, version, protected: flags.protected ?? false, expectedVersion: flags.expect ?? "" });
      out.one(AliasSchema, res.alias!, renderAlias);
    });

  aliases
    .command("delete <model> <alias>")
    .alias("rm")
    .description("remove an alias (the version stays)")
    .action(async (model: string, alias: string, _flags: object, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = modelRef(client, model);
      await client.models.deleteAlias({ model: name, alias });
      out.result(`deleted alias ${alias} of ${name}`, {});
    });

  aliases
    .command("list <model>")
    .alias("ls")
    .description("list the aliases of a model: alias, version, protected, when set")
    .action(async (model: string, _flags: object, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = modelRef(client, model);
      const res = await client.models.getModel({ name });
      out.list(AliasSchema, res.model!.aliases, renderAliasesTable, `model ${name} has no aliases`);
    });
}

export function renderAlias(a: Alias): string {
  return keyValues([
    ["Alias", a.alias],
    ["Version", a.version],
    ["Protected", a.protected ? "yes" : "no"],
    ["Updated", time(a.updateTime)],
  ]);
}

/** ALIAS, VERSION, PROTECTED, UPDATED. */
export function renderAliasesTable(items: Alias[], options: { color?: boolean }): string {
  return table(
    ["ALIAS", "VERSION", "PROTECTED", "UPDATED"],
    items.map((a) => [a.alias, a.version, a.protected ? "yes" : "no", time(a.updateTime)]),
    options,
  );
}
