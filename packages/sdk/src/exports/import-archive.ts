// registry.importArchive(): an export archive (tar, tar.gz or zip) made into
// a READY version of this registry: the same model and version id as in the
// archive unless the caller names others, the metadata of modelreg.json,
// and every file, checked against the manifest before anything is created.
// The version's manifest_digest must come out equal to the archive's.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import { VersionSchema, type Version } from "@modelreg/proto";
import type { RegistryClient } from "../client.js";
import { modelName, splitRef, workspaceName } from "../names.js";
import type { TransferContext, TransferOptions, TransferProgress } from "../transfers/context.js";
import { sendStagedAndCommit } from "../transfers/upload.js";
import { readArchive, type OpenedArchive } from "./read-archive.js";

export interface ImportArchiveOptions extends TransferOptions {
  /** Create the model when it does not exist (default true). */
  createModel?: boolean | undefined;
  /** Progress of the local check of the archive (every file read and hashed) before anything is created. */
  onHashProgress?: ((progress: TransferProgress) => void) | undefined;
  /** Sessions sent at once (default 4). */
  concurrency?: number | undefined;
  /** Where a tar.gz is unpacked (default: a temp directory beside the archive, else in os.tmpdir()). */
  tmpDir?: string | undefined;
}

/** Where the import goes: the model's resource name and the version id. */
export function importTarget(workspace: string, archiveVersion: Version, target: string | undefined): { model: string; versionId: string } {
  const fromArchive = () => {
    const model = archiveVersion.model.slice(archiveVersion.model.lastIndexOf("/") + 1);
    if (!model || !archiveVersion.version) throw new ConnectError("modelreg.json names no model or version id: name the target (model[:version])", Code.InvalidArgument);
    return model;
  };
  if (target === undefined || target === "") return { model: modelName(workspace, fromArchive()), versionId: archiveVersion.version };
  const { model, version, alias } = splitRef(target);
  if (alias !== undefined) throw new ConnectError(`"${target}" names a version through an alias; import into model or model:version`, Code.InvalidArgument);
  if (model === "") throw new ConnectError(`"${target}" names no model: use model or model:version`, Code.InvalidArgument);
  let name: string;
  try {
    name = modelName(workspace, model);
  } catch (err) {
    throw new ConnectError((err as Error).message, Code.InvalidArgument);
  }
  if (!/^workspaces\/[^/]+\/models\/[^/@]+$/.test(name)) throw new ConnectError(`"${target}" is not a model or version name`, Code.InvalidArgument);
  return { model: name, versionId: version ?? archiveVersion.version };
}

/** The settable fields of the archive's version (what CreateVersion takes); output-only fields and aliases are left behind. */
export function versionInit(v: Version): Version {
  return create(VersionSchema, {
    description: v.description,
    labels: v.labels,
    lineage: v.lineage,
    framework: v.framework,
    runtime: v.runtime,
    algorithm: v.algorithm,
    installTypes: v.installTypes,
    metrics: v.metrics,
    preprocessingParameters: v.preprocessingParameters,
    processingCode: v.processingCode,
    interface: v.interface,
    dependencies: v.dependencies,
    documents: v.documents,
    readme: v.readme,
    template: v.template,
    initialConfig: v.initialConfig,
    lifecycle: v.lifecycle,
  });
}

export async function importArchive(
  client: RegistryClient,
  transfers: TransferContext,
  archivePath: string,
  target: string | undefined,
  options: ImportArchiveOptions = {},
): Promise<Version> {
  const signal = options.signal;
  const call: CallOptions = signal ? { signal } : {};
  // Everything is checked before anything is created.
  const archive = await readArchive(archivePath, {
    ...(signal ? { signal } : {}),
    ...(options.onHashProgress ? { onHashProgress: options.onHashProgress } : {}),
    ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}),
  });
  try {
    const source = archive.manifest.version!;
    const { model, versionId } = importTarget(client.workspace, source, target);
    if (options.createModel ?? true) await ensureModel(client, model, call);
    const created = (await client.versions.createVersion({ parent: model, versionId, version: versionInit(source) }, call)).version!;
    let ready: Version;
    try {
      ready = await uploadArchiveFiles(client, transfers, created.name, archive, options);
    } catch (err) {
      // Leave no half-made version behind (best effort: deleting may need an admin key; else it stays PENDING, never READY).
      await client.versions.deleteVersion({ name: created.name }).catch(() => {});
      throw err;
    }
    if (source.manifestDigest && ready.manifestDigest !== source.manifestDigest) {
      throw new ConnectError(`${ready.name} was imported, but its manifest_digest ${ready.manifestDigest} differs from the archive's ${source.manifestDigest}`, Code.DataLoss);
    }
    return ready;
  } finally {
    await archive.close();
  }
}

async function ensureModel(client: RegistryClient, model: string, call: CallOptions): Promise<void> {
  try {
    await client.models.getModel({ name: model }, call);
    return;
  } catch (err) {
    if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
  }
  const at = model.lastIndexOf("/models/");
  try {
    await client.models.createModel({ parent: workspaceName(model.slice(0, at)), modelId: model.slice(at + "/models/".length) }, call);
  } catch (err) {
    // Created by someone else in between: import into it.
    if (!(err instanceof ConnectError && err.code === Code.AlreadyExists)) throw err;
  }
}

/** Stages the manifest's files, sends what the workspace lacks from the archive's bytes, commits. */
async function uploadArchiveFiles(client: RegistryClient, transfers: TransferContext, version: string, archive: OpenedArchive, options: ImportArchiveOptions): Promise<Version> {
  const signal = options.signal;
  const call: CallOptions = signal ? { signal } : {};
  const staged = await client.files.stageVersionFiles(
    { name: version, files: archive.files.map((f) => ({ path: f.file.path, sizeBytes: f.file.sizeBytes, sha256: f.file.sha256, mediaType: f.file.mediaType })) },
    call,
  );
  return sendStagedAndCommit(transfers, version, staged, archive.files.map((f) => ({ localPath: f.localPath, offset: f.offset, path: f.file.path })), options);
}
