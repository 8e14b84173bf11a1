// `modelreg versions ...`: create, get, list, update and delete the versions
// of a model, and list a version's files. A version is `model:version` (or a full resource name).
import { VersionFileSchema } from "@modelreg/sdk";
import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import type { Label } from "../labels.js";
import { modelRef, versionRef, versionTarget } from "../refs.js";
import { renderFilesTable } from "../render-files.js";
import { buildUpdate, type UpdateFlags } from "../update-mask.js";
import {
  createFields,
  withUpdateOptions,
  descriptionOption,
  etagOption,
  labelOption,
  limitOption,
  pageSizeFor,
  pageSizeOption,
  take,
  type ListFlags,
} from "./options.js";

export function registerVersionCommands(program: Command, context: (cmd: Command) => CommandContext): void {
  const versions = program
    .command("versions")
    .alias("version")
    .description("create, inspect, change and delete versions of a model")
    .addHelpText(
      "after",
      `\nNames: model:version (fraud-detector:1.2.0) resolves in --workspace; a full name (workspaces/w/models/fraud-detector/versions/1.2.0) is used as is.`,
    );

  versions
    .command("create <model[:version]>")
    .description("create a version; without :version the server assigns the next one (1.0.0, then the next patch)")
    .addOption(descriptionOption())
    .addOption(labelOption())
    .action(async (ref: string, flags: { description?: string; label?: Label[] }, cmd: Command) => {
      const { client, out } = context(cmd);
      const { parent, versionId } = versionTarget(client, ref);
      const res = await client.versions.createVersion({
        parent,
        versionId,
        version: createFields(flags),
      });
      out.version(res.version!);
    });

  versions
    .command("get [model:version]")
    .description("show one version, by name or by --uid")
    .option("--uid <uid>", "the version's uid instead of its name")
    .action(async (ref: string | undefined, flags: { uid?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      if ((ref === undefined) === (flags.uid === undefined)) {
        throw new UsageError("give either model:version or --uid <uid>, e.g. modelreg versions get fraud-detector:1.0.0");
      }
      const res = await client.versions.getVersion({
        ref: flags.uid !== undefined ? { case: "uid", value: flags.uid } : { case: "name", value: versionRef(client, ref!) },
      });
      out.version(res.version!);
    });

  versions
    .command("list <model>")
    .alias("ls")
    .description("list the versions of a model, highest version first")
    .addOption(limitOption())
    .addOption(pageSizeOption())
    .action(async (model: string, flags: ListFlags, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = modelRef(client, model);
      const pageSize = pageSizeFor(flags);
      const items = await take(client.listAllVersions(name, pageSize ? { pageSize } : {}), flags.limit);
      out.versions(items, name);
    });

  versions
    .command("files <model:version>")
    .description("list the files of a READY version: path, size, sha256, md5, media type (-o json adds signed download URLs)")
    .addOption(limitOption())
    .addOption(pageSizeOption())
    .action(async (ref: string, flags: ListFlags, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = versionRef(client, ref);
      const pageSize = pageSizeFor(flags);
      const items = await take(client.listAllFiles(name, pageSize ? { pageSize } : {}), flags.limit);
      out.list(VersionFileSchema, items, renderFilesTable, `version ${name} has no files`);
    });

  withUpdateOptions(versions.command("update <model:version>"))
    .description("change a version's description or labels (only the fields given)")
    .action(async (ref: string, flags: UpdateFlags & { etag?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const { paths, fields } = buildUpdate(flags);
      const res = await client.versions.updateVersion({
        version: { name: versionRef(client, ref), ...fields, etag: flags.etag ?? "" },
        updateMask: { paths },
      });
      out.version(res.version!);
    });

  versions
    .command("delete <model:version>")
    .alias("rm")
    .description("delete a version")
    .addOption(etagOption("delete"))
    .action(async (ref: string, flags: { etag?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = versionRef(client, ref);
      await client.versions.deleteVersion({ name, etag: flags.etag ?? "" });
      out.deleted("version", name);
    });
}
