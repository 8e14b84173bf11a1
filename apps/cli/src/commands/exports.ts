// `modelreg export`, `modelreg exports ...` and `modelreg import`: a version
// packed by the server into one archive (tar, tar.gz or zip) with checksums
// and a download URL, and such an archive made into a version again.
//
// Naming an export: its full resource name
// (workspaces/{w}/models/{m}/versions/{v}/exports/{uid}), or the short form
// `<model>:<version>/<uid>` in the workspace in use (what `exports list`
// prints in its EXPORT column).
import { resolve } from "node:path";
import { ExportSchema, parseExportFormat, shortExportName, splitRef, type Export, type RegistryClient } from "@modelreg/sdk";
import { type Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { outputPathOf } from "../global-options.js";
import type { Io } from "../io.js";
import { modelRef, versionRef } from "../refs.js";
import { downloadedExportJson, renderDownloadedExport, renderExport, renderExportsTable } from "../render-exports.js";
import { limitOption, pageSizeFor, take, type ListFlags } from "./options.js";

const FORMATS = ["tar", "tar.gz", "zip"] as const;
const STATES = ["pending", "running", "succeeded", "failed", "cancelled"] as const;

const formatOption = () => new Option("--format <format>", "archive format: tar, tar.gz or zip").choices(FORMATS).makeOptionMandatory();
const outputFileOption = () =>
  new Option("-O, --output-file <path>", "where to write the archive: a file, or an existing directory (default: the export's file name in the working directory)");

const exportNaming =
  "\nAn export is named by its full name (workspaces/{w}/models/{m}/versions/{v}/exports/{uid}) or as <model>:<version>/<uid> (the EXPORT column of `modelreg exports list`).";

/** `fraud:1.0.0/<uid>` or a full export name -> the export's resource name. */
export function exportRef(client: RegistryClient, ref: string): string {
  try {
    return client.exportName(ref);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function localPath(io: Io, path: string | undefined): string | undefined {
  if (path === undefined) return io.cwd;
  return io.cwd ? resolve(io.cwd, path) : resolve(path);
}

/** Waits for the export with a progress bar (packed bytes) on a terminal. */
async function waitWithBar(ctx: CommandContext, exp: Export | string): Promise<Export> {
  const bar = ctx.progressBar("export");
  try {
    return await ctx.client.waitForExport(exp, {
      onProgress: (e) => bar.onProgress({ bytesDone: Number(e.bytesDone), bytesTotal: Number(e.bytesTotal) }),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (err) {
    bar.stop();
    // Interrupted: only the waiting stopped.
    if (ctx.signal?.aborted) {
      const name = shortExportName(typeof exp === "string" ? ctx.client.exportName(exp) : exp.name);
      ctx.note(`note: export ${name} goes on on the server; wait again with: modelreg exports wait ${name}`);
    }
    throw err;
  } finally {
    bar.stop();
  }
}

/** Downloads the archive with a progress bar on a terminal, and prints where it went. */
async function downloadWithBar(ctx: CommandContext, exp: Export | string, target: string | undefined): Promise<void> {
  const bar = ctx.progressBar("download");
  try {
    const got = await ctx.client.downloadExport(exp, target, {
      onProgress: bar.onProgress,
      retry: { onRetry: ({ attempt }: { attempt: number }) => bar.note(`connection lost, resuming (retry ${attempt})`) },
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    bar.stop();
    ctx.out.result(renderDownloadedExport(got), downloadedExportJson(got));
  } finally {
    bar.stop();
  }
}

export function registerExportCommands(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command("export <model:version|model@alias>")
    .description("pack a READY version into one archive on the server (modelreg.json + every file); prints the export, or with --wait / -O waits for it (and downloads it)")
    .addOption(formatOption())
    .option("--force", "start a new export even when one for this version and format is pending, running or done")
    .option("--wait", "wait until the archive is ready (progress bar on a terminal); exit 10+code if it fails or is cancelled")
    .addOption(outputFileOption())
    .addHelpText(
      "after",
      `\nWithout --force an existing export of the same version and format is reused (the archive is deterministic: same version, same bytes). -O implies --wait.\n${exportNaming}\n\nExamples:\n  modelreg export fraud:3.2.0 --format tar.gz --wait -o ./fraud.tar.gz   (-o: table, json, or a path)\n  modelreg export fraud@production --format zip -o json | jq -r .name`,
    )
    .action(async (ref: string, flags: { format: (typeof FORMATS)[number]; force?: boolean; wait?: boolean; outputFile?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const { client, out, io } = ctx;
      flags.outputFile ??= outputPathOf(cmd);
      const version = versionRef(client, ref);
      // Not cut short by Ctrl-C: the server may have made the export already,
      // and only its answer tells the user what to wait for (waitWithBar then
      // stops at once and names it).
      let exp = await client.startExport(version, parseExportFormat(flags.format), { force: flags.force ?? false });
      if (flags.wait || flags.outputFile !== undefined) exp = await waitWithBar(ctx, exp);
      if (flags.outputFile !== undefined) {
        await downloadWithBar(ctx, exp, localPath(io, flags.outputFile));
        return;
      }
      out.one(ExportSchema, exp, (e) => renderExport(e, ctx.globals.server));
    });

  const exports = program
    .command("exports")
    .description("list, inspect, wait for, download, cancel and delete the exports of versions")
    .addHelpText("after", exportNaming);

  exports
    .command("list <model[:version]>")
    .alias("ls")
    .description("list the exports of a version, or of every version of a model (newest first)")
    .addOption(new Option("--state <state>", "only exports in this state").choices(STATES))
    .addOption(new Option("--format <format>", "only exports of this format").choices(FORMATS))
    .addOption(limitOption())
    .action(async (ref: string, flags: ListFlags & { state?: string; format?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const { model, version, alias } = splitRef(ref);
      if (model === "") throw new UsageError(`"${ref}" names no model: use model or model:version`);
      // Checked here, so a bad reference is a usage error; the SDK lists a model's exports across its versions.
      const target = version !== undefined || alias !== undefined ? versionRef(client, ref) : modelRef(client, model);
      const filter = [
        ...(flags.state ? [`state = ${flags.state.toUpperCase()}`] : []),
        ...(flags.format ? [`format = ${flags.format === "tar.gz" ? "TAR_GZ" : flags.format.toUpperCase()}`] : []),
      ].join(" AND ");
      const pageSize = pageSizeFor(flags);
      const items = await take(client.listAllExports(target, { filter, ...(pageSize ? { pageSize } : {}) }), flags.limit);
      out.list(ExportSchema, items, renderExportsTable, `no exports of ${target}${filter ? ` matching ${filter}` : ""}`);
    });

  exports
    .command("get <export>")
    .description("show an export: state, progress, file name, size, md5, sha256, a fresh download URL, or why it failed")
    .action(async (ref: string, _flags: object, cmd: Command) => {
      const { client, out, globals } = context(cmd);
      const res = await client.exports.getExport({ name: exportRef(client, ref) });
      out.one(ExportSchema, res.export!, (e) => renderExport(e, globals.server));
    });

  exports
    .command("wait <export>")
    .description("wait until an export SUCCEEDED (progress bar on a terminal) and show it; exit 10+code if it failed or was cancelled")
    .action(async (ref: string, _flags: object, cmd: Command) => {
      const ctx = context(cmd);
      const exp = await waitWithBar(ctx, exportRef(ctx.client, ref));
      ctx.out.one(ExportSchema, exp, (e) => renderExport(e, ctx.globals.server));
    });

  exports
    .command("download <export>")
    .description("download the archive of a SUCCEEDED export, verified against its size and sha256 (resumed after a dropped connection)")
    .addOption(outputFileOption())
    .action(async (ref: string, flags: { outputFile?: string }, cmd: Command) => {
      flags.outputFile ??= outputPathOf(cmd);
      const ctx = context(cmd);
      await downloadWithBar(ctx, exportRef(ctx.client, ref), localPath(ctx.io, flags.outputFile));
    });

  exports
    .command("cancel <export>")
    .description("cancel a PENDING or RUNNING export (exit 19 if it has finished)")
    .action(async (ref: string, _flags: object, cmd: Command) => {
      const { client, out, globals } = context(cmd);
      const res = await client.exports.cancelExport({ name: exportRef(client, ref) });
      out.one(ExportSchema, res.export!, (e) => renderExport(e, globals.server));
    });

  exports
    .command("delete <export>")
    .alias("rm")
    .description("delete an export record and, once nothing else refers to it, its archive (a running export is cancelled first; needs an admin key)")
    .action(async (ref: string, _flags: object, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = exportRef(client, ref);
      await client.exports.deleteExport({ name });
      out.result(`deleted export ${name}`, {});
    });

  program
    .command("import <archive> [model[:version]]")
    .description(
      "create a READY version from an export archive (.tar, .tar.gz or .zip, told apart by content): the archive's model and version id unless named, its metadata and every file; the model is created if missing",
    )
    .addHelpText(
      "after",
      "\nThe archive is checked first (every entry against modelreg.json, every file's sha256): a corrupt or altered archive is refused, naming the file, before anything is created. The new version's manifest digest must equal the archive's.",
    )
    .action(async (archive: string, target: string | undefined, _flags: object, cmd: Command) => {
      const { client, out, io, signal, progressBar } = context(cmd);
      if (target !== undefined && splitRef(target).alias !== undefined) throw new UsageError(`"${target}" names an alias; import into model or model:version`);
      const bar = progressBar("import");
      try {
        const v = await client.importArchive(localPath(io, archive)!, target, {
          onHashProgress: bar.onHashProgress,
          onProgress: bar.onProgress,
          ...(signal ? { signal } : {}),
        });
        bar.stop();
        out.version(v);
      } finally {
        bar.stop();
      }
    });
}
