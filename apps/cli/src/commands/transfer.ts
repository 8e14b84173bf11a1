// `modelreg push` and `modelreg pull`: the files of a version to and from
// this machine. Bytes move over plain HTTP (signed URLs) by default, or over
// the FileService streams with --transport stream; a progress bar shows on
// a terminal only.
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { ALL_MODELS, Code, ConnectError, clientError, splitRef, type RegistryClient, type Version, VersionState } from "@modelreg/sdk";
import { type Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { outputPathOf } from "../global-options.js";
import type { Label } from "../labels.js";
import { lastSegment } from "../output.js";
import type { ProgressBar } from "../progress.js";
import { modelRef, versionRef, versionTarget } from "../refs.js";
import { type PendingPushes, pendingPushes } from "../pending-pushes.js";
import { pulledJson, renderPulledTable } from "../render-files.js";
import { createFields, descriptionOption, labelOption } from "./options.js";

type Transport = "http" | "stream";

const transportOption = () =>
  new Option("--transport <how>", "how bytes move: http (signed PUT/GET URLs) or stream (FileService WriteUpload/ReadFile over --protocol)")
    .choices(["http", "stream"])
    .default("http");

export function registerTransferCommands(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command("push <path> <model[:version|@alias]>")
    .description(
      "upload a file or a directory (every regular file under it) as the files of a version, which becomes READY; " +
        "without :version a new version is created (the server numbers it), and a named version that does not exist is created; @alias: the version the alias points at (with --overwrite when it has files)",
    )
    .option("--overwrite", "replace the files of a version that has files already")
    .addOption(transportOption())
    .addOption(descriptionOption())
    .addOption(labelOption())
    .addHelpText(
      "after",
      "\nContent the workspace holds already is not sent again. --description and --label apply only to a version push creates." +
        "\nA push that stopped (interrupted, killed, a lost connection) continues when the same command runs again, from at most 16 MiB before where it stopped; without :version it goes on with the version the stopped run created.",
    )
    .action(async (path: string, ref: string, flags: PushFlags, cmd: Command) => {
      const { client, out, io, signal, progressBar, note, globals } = context(cmd);
      const local = io.cwd ? resolve(io.cwd, path) : resolve(path);
      const info = await stat(local).catch(() => {
        throw new UsageError(`${path} does not exist: give a file or a directory to push`);
      });
      if (!info.isFile() && !info.isDirectory()) throw new UsageError(`${path} is neither a file nor a directory`);
      // Without :version, the version a stopped run of this same push created is taken up again (pending-pushes.ts).
      const { alias, version: named } = splitRef(ref);
      const pending =
        alias === undefined && !named
          ? pendingPushes(
              {
                server: globals.server,
                model: versionTarget(client, ref).parent,
                localPath: local,
                ...(flags.description !== undefined ? { description: flags.description } : {}),
                ...(flags.label ? { labels: flags.label } : {}),
              },
              io.env,
            )
          : undefined;
      const { version, created, resumed } = await ensureVersion(client, ref, flags, pending);
      if (resumed) note(`continuing the stopped push into version ${version.name}`);
      const bar = progressBar("push");
      let ready: Version;
      try {
        const options = {
          overwrite: flags.overwrite ?? false,
          transport: flags.transport,
          onProgress: bar.onProgress,
          onHashProgress: bar.onHashProgress,
          retry: retryNotes(bar),
          ...(signal ? { signal } : {}),
        };
        ready = info.isDirectory() ? await client.uploadDirectory(version.name, local, options) : await client.uploadFile(version.name, local, options);
      } catch (err) {
        bar.stop();
        if (created || resumed)
          io.stderr.write(`note: version ${version.name} was created for this push and has no files yet; push again (the same command continues it), or delete it\n`);
        throw err;
      } finally {
        bar.stop();
      }
      await pending?.forget();
      out.version(ready);
    });

  program
    .command("pull <model[:version|@alias]>")
    .description(
      "download the files of a READY version into a directory (default ./<model>-<version>); without :version, the model's newest READY version (archived ones aside); @alias: the version the alias points at",
    )
    .option("-d, --dir <dir>", "where to write the files (created if missing)")
    .addOption(transportOption())
    .addHelpText(
      "after",
      "\nFiles already there with the right sha256 are not downloaded again; every file is verified and appears only when complete. " +
        "A pull that is stopped or killed keeps what arrived as <file>.modelreg-partial (with a .json record of its content and the bytes on disk): the next pull of the same content continues it instead of starting over, and deletes it if the finished file's sha256 is wrong.\n" +
        "-o table|json|yaml is the output format; any other -o value is the directory (modelreg pull fraud:1.0.0 -o ./models/fraud).",
    )
    .action(async (ref: string, flags: { dir?: string; transport: Transport }, cmd: Command) => {
      flags.dir ??= outputPathOf(cmd);
      const ctx = context(cmd);
      const { client, out, io, signal } = ctx;
      const { name, model, version, note } = await resolvePullVersion(client, ref);
      if (note) ctx.note(note);
      const dir = flags.dir ?? `${lastSegment(model)}-${version}`;
      const target = io.cwd ? resolve(io.cwd, dir) : resolve(dir);
      const bar = ctx.progressBar("pull");
      try {
        const files = await client.downloadToDirectory(name, target, {
          transport: flags.transport,
          onProgress: bar.onProgress,
          retry: retryNotes(bar),
          ...(signal ? { signal } : {}),
        });
        bar.stop();
        if (files.length === 0 && out.format === "table") ctx.note(`version ${name} has no files`);
        else out.result(renderPulledTable(files), files.map(pulledJson));
      } finally {
        bar.stop();
      }
    });
}

/** Retries (after a dropped or stalled connection) shown beside the bar. */
function retryNotes(bar: ProgressBar) {
  return { onRetry: ({ attempt }: { attempt: number }) => bar.note(`connection lost, resuming (retry ${attempt})`) };
}

interface PushFlags {
  overwrite?: boolean;
  transport: Transport;
  description?: string;
  label?: Label[];
}

/**
 * The version push uploads into: created when not named, or named but
 * missing. Not named, with `pending`: the PENDING version a stopped run of
 * the same push created (`resumed`), else a new one, remembered there.
 */
export async function ensureVersion(
  client: RegistryClient,
  ref: string,
  flags: { description?: string; label?: Label[] },
  pending?: PendingPushes,
): Promise<{ version: Version; created: boolean; resumed?: boolean }> {
  // An alias names an existing version: never created here.
  if (splitRef(ref).alias !== undefined) {
    return { version: (await client.versions.getVersion({ ref: { case: "name", value: versionRef(client, ref) } })).version!, created: false };
  }
  const { parent, versionId } = versionTarget(client, ref);
  const create = async () => ({ version: (await client.versions.createVersion({ parent, versionId, version: createFields(flags) })).version!, created: true });
  if (versionId === "") {
    const earlier = await pending?.find();
    const stopped = earlier ? await client.versions.getVersion({ ref: { case: "name", value: earlier } }).catch(() => undefined) : undefined;
    if (stopped?.version?.state === VersionState.PENDING) return { version: stopped.version, created: false, resumed: true };
    const made = await create();
    await pending?.remember(made.version.name);
    return made;
  }
  const get = async () => ({ version: (await client.versions.getVersion({ ref: { case: "name", value: `${parent}/versions/${versionId}` } })).version!, created: false });
  try {
    return await get();
  } catch (err) {
    if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
  }
  try {
    return await create();
  } catch (err) {
    // Created by someone else in between: use it.
    if (err instanceof ConnectError && err.code === Code.AlreadyExists) return get();
    throw err;
  }
}

/**
 * The version pull reads: the one named (an alias resolved to it), else the
 * model's newest READY version, with a note saying which (and naming a newer
 * version that is not READY). A named version is taken as named: a PENDING
 * one fails the pull.
 */
async function resolvePullVersion(client: RegistryClient, ref: string): Promise<{ name: string; model: string; version: string; note?: string }> {
  const { model, version, alias } = splitRef(ref);
  if (model === "" || lastSegment(model) === ALL_MODELS) throw new UsageError(`"${ref}" names no model: use model[:version] or model@alias, e.g. fraud-detector:1.0.0`);
  if (alias !== undefined) {
    const { version: v } = await client.versions.getVersion({ ref: { case: "name", value: versionRef(client, ref) } });
    return { name: v!.name, model: v!.model, version: v!.version };
  }
  if (version !== undefined) {
    const name = versionRef(client, ref);
    return { name, model: modelRef(client, model), version };
  }
  const parent = modelRef(client, model);
  // Both newest first (the default order within a model): the newest READY one, and the newest of all.
  const [ready, all] = await Promise.all([
    client.versions.listVersions({ parent, filter: "state = READY", pageSize: 1 }),
    client.versions.listVersions({ parent, pageSize: 1 }),
  ]);
  const [pick] = ready.versions;
  const [newest] = all.versions;
  const newer = newest && newest.state !== VersionState.READY ? `${newest.version} is ${VersionState[newest.state]}` : undefined;
  if (!pick) throw noReadyVersion(parent, newer);
  const note = `pulling ${lastSegment(pick.model)}:${pick.version}, the newest READY version${newer ? ` (${newer})` : ""}`;
  return { name: pick.name, model: pick.model, version: pick.version, note };
}

/**
 * A model with no READY version has nothing to pull yet: FailedPrecondition
 * (exit 19), as for pulling a named PENDING version. Not NotFound: the model
 * is there, and what is missing is files, which a push provides.
 */
function noReadyVersion(model: string, newer: string | undefined): ConnectError {
  return clientError(`model ${model} has no READY version to pull${newer ? ` (${newer})` : ""}`, Code.FailedPrecondition, "NO_READY_VERSION", { resource: model });
}
