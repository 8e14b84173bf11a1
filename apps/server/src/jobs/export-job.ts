// The `export` job: packs one version into an archive (exports/archive.ts)
// and publishes it as a content-addressed blob the workspace holds. What it
// reads and how it moves the record along is the exports domain's
// (domain/exports/runs.ts).
//
// Run twice (its server died mid-way and another took it over), it writes
// the same bytes again: the archive is deterministic and the blob store
// publishes a blob only whole and verified, under its sha256, so there is
// never a second or a torn archive. The record turns SUCCEEDED only while it
// is still RUNNING, so a cancellation that came first stays.
import { create, toJsonString } from "@bufbuild/protobuf";
import { ExportManifestSchema, ExportState, VersionState } from "@modelreg/proto";
import { archiveFileName, type ExportRuns } from "../domain/exports/index.js";
import type { Version } from "../domain/versions/index.js";
import { archiveStream, ARCHIVE_TYPES, type ArchiveEntry, type ArchiveFormat, bufferEntry } from "../exports/archive.js";
import type { Logger } from "../logger.js";
import { versionToProto } from "../convert/resources.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { JobCancelledError, type JobContext, type JobKind, PermanentJobError } from "./engine.js";

const FORMATS: Record<number, ArchiveFormat> = { 1: "tar", 2: "tar.gz", 3: "zip" };

export interface ExportJobDeps {
  runs: ExportRuns;
  store: BlobStore;
  logger: Logger;
  /** How often progress is written (and a cancellation looked for); default 1 s. */
  progressMs?: number;
}

export function createExportJob(deps: ExportJobDeps): JobKind {
  return {
    async run(payload, ctx) {
      const exportId = String(payload.exportId);
      try {
        await pack(deps, exportId, ctx);
      } catch (err) {
        // Waiting for another try: PENDING again, with what went wrong.
        if (!ctx.isLastAttempt && !(err instanceof PermanentJobError) && !(err instanceof JobCancelledError) && !ctx.signal.aborted)
          await deps.runs.retryLater(exportId, err instanceof Error ? err.message : String(err));
        throw err;
      }
    },
    async onFailed(payload, error) {
      await deps.runs.fail(String(payload.exportId), error);
    },
  };
}

async function pack(deps: ExportJobDeps, exportId: string, ctx: JobContext): Promise<void> {
  const claimed = await deps.runs.claim(exportId, ctx.attempt);
  if (!claimed) return; // cancelled, deleted, or finished by an earlier try
  const format = FORMATS[claimed.format];
  if (!format) throw new PermanentJobError(`unknown export format ${claimed.format}`);
  const { version, revision, entries, total } = await contents(deps, claimed.versionId);
  const { stored, done } = await publish(deps, exportId, ctx, format, entries, version);
  if (done !== total) throw new Error(`read ${done} bytes of the version's files, expected ${total}: a file changed while it was packed`);
  const { extension, mediaType } = ARCHIVE_TYPES[format];
  await deps.runs.succeed(exportId, claimed.workspace, {
    fileName: archiveFileName(version, extension),
    fileType: mediaType,
    total,
    revision,
    size: stored.size,
    md5: stored.md5,
    sha256: stored.sha256,
  });
}

/** The archive's entries: modelreg.json (the ExportManifest) first, then the version's files by path. */
async function contents(deps: ExportJobDeps, versionId: string): Promise<{ version: Version; revision: number; entries: ArchiveEntry[]; total: number }> {
  // One read of the version: its message for modelreg.json (aliases left
  // out, they move on their own) and the revision the archive is of.
  const source = await deps.runs.version(versionId);
  if (!source) throw new PermanentJobError("the version was deleted before it could be exported");
  const { version, revision } = source;
  if (version.state !== VersionState.READY) throw new PermanentJobError(`${version.name} is no longer READY`);
  const files = await deps.runs.files(versionId);
  const total = files.reduce((n, f) => n + f.size, 0);

  const manifest = create(ExportManifestSchema, {
    formatVersion: 1,
    version: versionToProto(version),
    files: files.map((f) => ({ path: f.path, sizeBytes: BigInt(f.size), sha256: f.sha256, mediaType: f.mediaType })),
  });
  const json = Buffer.from(`${toJsonString(ExportManifestSchema, manifest, { prettySpaces: 2 })}\n`);
  const entries: ArchiveEntry[] = [
    bufferEntry("modelreg.json", json),
    ...files.map((f) => ({ path: f.path, size: f.size, open: () => deps.store.get(f.sha256) as ReturnType<ArchiveEntry["open"]> })),
  ];
  return { version, revision, entries, total };
}

type Stored = Awaited<ReturnType<BlobStore["put"]>>;

/** Packs the archive and publishes it in the store; the bytes of the version's files it read. */
async function publish(deps: ExportJobDeps, exportId: string, ctx: JobContext, format: ArchiveFormat, entries: ArchiveEntry[], version: Version): Promise<{ stored: Stored; done: number }> {
  const { store } = deps;
  // Progress goes to the record every progressMs; the same statement
  // tells whether the export was cancelled meanwhile.
  const local = new AbortController();
  const signal = AbortSignal.any([ctx.signal, local.signal]);
  let done = 0;
  let reported = 0;
  const tick = setInterval(() => {
    if (done === reported) return;
    reported = done;
    deps.runs
      .progress(exportId, done)
      .then((state) => {
        if (state !== ExportState.RUNNING) local.abort(new JobCancelledError("the export was cancelled"));
      })
      .catch((err: unknown) => deps.logger.warn({ err, export: exportId }, "could not record an export's progress"));
  }, deps.progressMs ?? 1000);
  try {
    const mtime = new Date(Math.floor(version.createTime.getTime() / 1000) * 1000);
    const archive = () => archiveStream(format, entries, { mtime, signal, onBytes: (n) => (done += n) });
    let stored = await store.put(archive(), { signal });
    // Published before it is claimed; a garbage collection that removed
    // an older copy of the same bytes in between is caught by has().
    await deps.runs.claimArchive(stored.sha256, stored.size);
    if (!(await store.has(stored.sha256))) {
      done = 0;
      stored = await store.put(archive(), { signal, expectedSha256: stored.sha256 });
    }
    return { stored, done };
  } catch (err) {
    throw local.signal.aborted ? local.signal.reason : err;
  } finally {
    clearInterval(tick);
  }
}
