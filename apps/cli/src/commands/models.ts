// `modelreg models ...`: create, get, list, update and delete models.
import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import type { Label } from "../labels.js";
import { modelRef, modelTarget } from "../refs.js";
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
  filterOption,
  orderByOption,
  type SearchFlags,
} from "./options.js";
import { searchRequest } from "./versions.js";

export function registerModelCommands(program: Command, context: (cmd: Command) => CommandContext): void {
  const models = program
    .command("models")
    .alias("model")
    .description("create, inspect, change and delete models")
    .addHelpText("after", `\nNames: a short name (fraud-detector) resolves in --workspace; a full name (workspaces/w/models/fraud-detector) is used as is.`);

  models
    .command("create <name>")
    .description("create a model")
    .addOption(descriptionOption())
    .addOption(labelOption())
    .action(async (name: string, flags: { description?: string; label?: Label[] }, cmd: Command) => {
      const { client, out } = context(cmd);
      const { parent, modelId } = modelTarget(client, name);
      const res = await client.models.createModel({
        parent,
        modelId,
        model: createFields(flags),
      });
      out.model(res.model!);
    });

  models
    .command("get <name>")
    .description("show one model")
    .action(async (name: string, _flags: object, cmd: Command) => {
      const { client, out } = context(cmd);
      const res = await client.models.getModel({ name: modelRef(client, name) });
      out.model(res.model!);
    });

  models
    .command("list")
    .alias("ls")
    .description("list the models of the workspace, by name")
    .addOption(filterOption('labels.team = "risk" AND version_count > 0; fields: name, description, latest_version, version_count, labels.<key>, create_time, update_time'))
    .addOption(orderByOption("name, create_time, update_time, version_count, each optionally desc, e.g. update_time desc"))
    .addOption(limitOption())
    .addOption(pageSizeOption())
    .action(async (flags: ListFlags & SearchFlags, cmd: Command) => {
      const { client, out } = context(cmd);
      const pageSize = pageSizeFor(flags);
      const items = await take(client.listAllModels({ ...searchRequest(flags), ...(pageSize ? { pageSize } : {}) }), flags.limit);
      out.models(items, client.workspace);
    });

  withUpdateOptions(models.command("update <name>"))
    .description("change a model's description or labels (only the fields given)")
    .action(async (name: string, flags: UpdateFlags & { etag?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const { paths, fields } = buildUpdate(flags);
      const res = await client.models.updateModel({
        model: { name: modelRef(client, name), ...fields, etag: flags.etag ?? "" },
        updateMask: { paths },
      });
      out.model(res.model!);
    });

  models
    .command("delete <name>")
    .alias("rm")
    .description("delete a model (refused while it has versions, unless --force)")
    .option("--force", "also delete all of the model's versions")
    .addOption(etagOption("delete"))
    .action(async (name: string, flags: { force?: boolean; etag?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const full = modelRef(client, name);
      await client.models.deleteModel({ name: full, etag: flags.etag ?? "", force: flags.force ?? false });
      out.deleted("model", full, flags.force ? "(with its versions)" : undefined);
    });
}
