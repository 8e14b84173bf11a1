// `modelreg versions ...`: create, get, list, update and delete the versions
// of a model, and list a version's files. A version is `model:version` (or a full resource name).
import { ALL_MODELS, VersionFileSchema } from "@modelreg/sdk";
import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { ModelArtsImportError, notStrictlyValid } from "@modelreg/sdk";
import type { Label } from "../labels.js";
import { modelRef, versionRef, versionTarget } from "../refs.js";
import { renderFilesTable } from "../render-files.js";
import { buildUpdate, type UpdateFlags } from "../update-mask.js";
import { metadataFromFlags, readJson, withMetadataOptions, type MetadataFlags } from "../version-metadata.js";
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

/** The filter and order of a list command, as the SDK's list helpers take them. */
export function searchRequest(flags: SearchFlags): { filter?: string; orderBy?: string } {
  return { ...(flags.filter ? { filter: flags.filter } : {}), ...(flags.orderBy ? { orderBy: flags.orderBy } : {}) };
}

/** Metrics the order and the filter name, first order then filter: the table shows them first. */
export function metricsNamed(flags: SearchFlags): string[] {
  const text = `${flags.orderBy ?? ""} ${flags.filter ?? ""}`;
  return [...text.matchAll(/\bmetrics\.([A-Za-z][\w./-]*)/g)].map((m) => m[1]!);
}

export function registerVersionCommands(program: Command, context: (cmd: Command) => CommandContext): void {
  const versions = program
    .command("versions")
    .alias("version")
    .description("create, inspect, change and delete versions of a model")
    .addHelpText(
      "after",
      `\nNames: model:version (fraud-detector:1.2.0) resolves in --workspace; model@alias (fraud-detector@production) is the version the alias points at; ` +
        `a full name (workspaces/w/models/fraud-detector/versions/1.2.0) is used as is.`,
    );

  withMetadataOptions(
    versions
      .command("create <model[:version]>")
      .description("create a version; without :version the server assigns the next one (1.0.0, then the next patch)")
      .addOption(descriptionOption())
      .addOption(labelOption())
      .option("--request-id <id>", "makes the create idempotent: a retry with the same id returns the version the first call created"),
    "create",
  ).action(async (ref: string, flags: MetadataFlags & { description?: string; label?: Label[]; requestId?: string }, cmd: Command) => {
    const { client, out, io } = context(cmd);
    const { parent, versionId } = versionTarget(client, ref);
    const { version } = await metadataFromFlags(flags, io, "create");
    const base = createFields(flags);
    if (flags.description !== undefined || version.description === "") version.description = base.description;
    if (flags.label?.length || Object.keys(version.labels).length === 0) version.labels = base.labels;
    const res = await client.versions.createVersion({ parent, versionId, version, requestId: flags.requestId ?? "" });
    out.version(res.version!);
  });

  versions
    .command("import-modelarts <file.json>")
    .description("create a version from a ModelArts import-model request body (model_name, model_version, model_type, ...): every field is kept")
    .option("--create-model", "create the model (model_name) when it does not exist")
    .option("--request-id <id>", "makes the import idempotent: a retry with the same id returns the version the first call created")
    .addHelpText(
      "after",
      "\nA key the import does not know, or a model_type it cannot map, is refused (exit 2) naming the key; nothing is created." +
        "\nWhat ModelArts writes and the registry's strict rules refuse (min/max on a string parameter; API schemas with types such as file or box) is kept as written, marked lenient, with a warning on stderr.",
    )
    .action(async (file: string, flags: { createModel?: boolean; requestId?: string }, cmd: Command) => {
      const { client, out, io, note } = context(cmd);
      const request = await readJson(file, io);
      const version = await client
        .importModelArts(request as object, { createModel: flags.createModel ?? false, ...(flags.requestId ? { requestId: flags.requestId } : {}) })
        .catch((err: unknown) => {
          if (err instanceof ModelArtsImportError) throw new UsageError(`${file}: ${err.message}`);
          throw err;
        });
      out.version(version);
      for (const w of notStrictlyValid(version)) note(`warning: ${file}: ${w.key}: ${w.message} (marked lenient: not strictly valid)`);
    });

  versions
    .command("get [model:version]")
    .description("show one version, by name (model:version, model@alias) or by --uid")
    .option("--uid <uid>", "the version's uid instead of its name")
    .action(async (ref: string | undefined, flags: { uid?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      if ((ref === undefined) === (flags.uid === undefined)) {
        throw new UsageError("give either model:version (or model@alias) or --uid <uid>, e.g. modelreg versions get fraud-detector:1.0.0");
      }
      const res = await client.versions.getVersion({
        ref: flags.uid !== undefined ? { case: "uid", value: flags.uid } : { case: "name", value: versionRef(client, ref!) },
      });
      out.version(res.version!);
    });

  versions
    .command("list <model>")
    .alias("ls")
    .description(`list the versions of a model (highest version first), or of every model with "${ALL_MODELS}" (newest first); archived versions only when --filter names lifecycle`)
    .addOption(filterOption('metrics.f1 > 0.85 AND labels.dataset = "2026-10"; fields: version, model, runtime, algorithm, data_version, framework, state, lifecycle, labels.<key>, metrics.<name>, file_count, total_size_bytes, create_time, update_time, ...'))
    .addOption(orderByOption("version, create_time, update_time or metrics.<name>, then asc or desc, e.g. metrics.f1 desc"))
    .addOption(limitOption())
    .addOption(pageSizeOption())
    .action(async (model: string, flags: ListFlags & SearchFlags, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = modelRef(client, model);
      const pageSize = pageSizeFor(flags);
      const items = await take(client.listAllVersions(name, { ...searchRequest(flags), ...(pageSize ? { pageSize } : {}) }), flags.limit);
      out.versions(items, name, { metrics: metricsNamed(flags), acrossModels: name.endsWith(`/models/${ALL_MODELS}`) });
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

  withMetadataOptions(withUpdateOptions(versions.command("update <model:version>")), "update")
    .description("change a version's metadata: only the fields given (--metadata: the fields in the file) change")
    .action(async (ref: string, flags: UpdateFlags & MetadataFlags & { etag?: string }, cmd: Command) => {
      const { client, out, io } = context(cmd);
      const { version, paths: metadataPaths } = await metadataFromFlags(flags, io, "update");
      const { paths, fields } = buildUpdate(flags, { paths: metadataPaths.length, flags: "--framework, --runtime, --algorithm, --metric, --readme, --metadata, --archive, --unarchive" });
      Object.assign(version, fields, { name: versionRef(client, ref), etag: flags.etag ?? "" });
      const res = await client.versions.updateVersion({
        version,
        updateMask: { paths: [...paths, ...metadataPaths.filter((p) => !paths.includes(p))] },
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
