// The `export` job: packs one version into an archive (exports/archive.ts)
// and publishes it as a content-addressed blob the workspace holds.
//
// Run twice (its server died mid-way and another took it over), it writes
// the same bytes again: the archive is deterministic and the blob store
// publishes a blob only whole and verified, under its sha256, so there is
// never a second or a torn archive. The record turns SUCCEEDED only while it
// is still RUNNING, so a cancellation that came first stays.
import { create, toJsonString } from "@bufbuild/protobuf";
import { type Database, exports, models, versionFiles, versions } from "@modelreg/db";
import { ExportManifestSchema, ExportState, VersionState } from "@modelreg/proto";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { claimBlob, recordHolding } from "../domain/files/blob-holdings.js";

import { toVersion } from "../domain/versions/index.js";
import { archiveStream, ARCHIVE_TYPES, type ArchiveEntry, type ArchiveFormat, bufferEntry } from "../exports/archive.js";
import type { Logger } from "../logger.js";
import { versionToProto } from "../convert/resources.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { JobCancelledError, type JobContext, type JobKind, PermanentJobError } from "./engine.js";

const FORMATS: Record<number, ArchiveFormat> = { 1: "tar", 2: "tar.gz", 3: "zip" };
const LIVE = [ExportState.PENDING, ExportState.RUNNING];

export interface ExportJobDeps {
  db: Database;
  store: BlobStore;
  logger: Logger;
  /** How often progress is written (and a cancellation looked for); default 1 s. */
  progressMs?: number;
}

export function createExportJob(deps: ExportJobDeps): JobKind {
  const { db, store } = deps;
  const progressMs = deps.progressMs ?? 1000;

  async function pack(exportId: string, ctx: JobContext): Promise<void> {
    const [claimed] = await db
      .update(exports)
      .set({ state: ExportState.RUNNING, attempts: ctx.attempt, bytesDone: 0, updateTime: sql`now()` })
      .where(and(eq(exports.id, exportId), inArray(exports.state, LIVE)))
      .returning();
    if (!claimed) return; // cancelled, deleted, or finished by an earlier try
    const format = FORMATS[claimed.format];
    if (!format) throw new PermanentJobError(`unknown export format ${claimed.format}`);
    // One read of the version: its message for modelreg.json (aliases left
    // out, they move on their own) and the revision the archive is of.
    const [hit] = await db
      .select({ v: versions, workspace: models.workspace, model: models.name })
      .from(versions)
      .innerJoin(models, eq(versions.modelId, models.id))
      .where(eq(versions.id, claimed.versionId));
    if (!hit) throw new PermanentJobError("the version was deleted before it could be exported");
    const version = toVersion(hit.v, { workspace: hit.workspace, name: hit.model });
    if (version.state !== VersionState.READY) throw new PermanentJobError(`${version.name} is no longer READY`);
    const revision = hit.v.revision;
    const files = await db
      .select({ path: versionFiles.path, size: versionFiles.size, sha256: versionFiles.sha256, mediaType: versionFiles.mediaType })
      .from(versionFiles)
      .where(and(eq(versionFiles.versionId, claimed.versionId), eq(versionFiles.draft, false)))
      .orderBy(asc(versionFiles.path));
    const total = files.reduce((n, f) => n + f.size, 0);

    const manifest = create(ExportManifestSchema, {
      formatVersion: 1,
      version: versionToProto(version),
      files: files.map((f) => ({ path: f.path, sizeBytes: BigInt(f.size), sha256: f.sha256, mediaType: f.mediaType })),
    });
    const json = Buffer.from(`${toJsonString(ExportManifestSchema, manifest, { prettySpaces: 2 })}\n`);
    const entries: ArchiveEntry[] = [
      bufferEntry("modelreg.json", json),
      ...files.map((f) => ({ path: f.path, size: f.size, open: () => store.get(f.sha256) as ReturnType<ArchiveEntry["open"]> })),
    ];

    // Progress goes to the record every progressMs; the same statement
    // tells whether the export was cancelled meanwhile.
    const local = new AbortController();
    const signal = AbortSignal.any([ctx.signal, local.signal]);
    let done = 0;
    let reported = 0;
    const tick = setInterval(() => {
      if (done === reported) return;
      reported = done;
      db.update(exports)
        .set({ bytesDone: done, updateTime: sql`now()` })
        .where(eq(exports.id, exportId))
        .returning({ state: exports.state })
        .then(([row]) => {
          if (!row || row.state !== ExportState.RUNNING) local.abort(new JobCancelledError("the export was cancelled"));
        })
        .catch((err: unknown) => deps.logger.warn({ err, export: exportId }, "could not record an export's progress"));
    }, progressMs);
    let stored: Awaited<ReturnType<BlobStore["put"]>>;
    try {
      const mtime = new Date(Math.floor(version.createTime.getTime() / 1000) * 1000);
      const archive = () => archiveStream(format, entries, { mtime, signal, onBytes: (n) => (done += n) });
      stored = await store.put(archive(), { signal });
      // Published before it is claimed; a garbage collection that removed
      // an older copy of the same bytes in between is caught by has().
      await claimBlob(db, stored.sha256, stored.size);
      if (!(await store.has(stored.sha256))) {
        done = 0;
        stored = await store.put(archive(), { signal, expectedSha256: stored.sha256 });
      }
    } catch (err) {
      throw local.signal.aborted ? local.signal.reason : err;
    } finally {
      clearInterval(tick);
    }
    if (done !== total) throw new Error(`read ${done} bytes of the version's files, expected ${total}: a file changed while it was packed`);
    const fileName = `${version.model.slice(version.model.lastIndexOf("/") + 1)}-${version.version}${ARCHIVE_TYPES[format].extension}`;
    await db.transaction(async (tx) => {
      await recordHolding(tx, claimed.workspace, stored.sha256, stored.md5);
      await tx
        .update(exports)
        .set({
          state: ExportState.SUCCEEDED,
          bytesDone: total,
          bytesTotal: total,
          fileName,
          fileType: ARCHIVE_TYPES[format].mediaType,
          sizeBytes: stored.size,
          md5: stored.md5,
          sha256: stored.sha256,
          errorMessage: "",
          sourceRevision: revision,
          endTime: sql`now()`,
          updateTime: sql`now()`,
        })
        .where(and(eq(exports.id, exportId), eq(exports.state, ExportState.RUNNING)));
    });
  }

  return {
    async run(payload, ctx) {
      const exportId = String(payload.exportId);
      try {
        await pack(exportId, ctx);
      } catch (err) {
        // Waiting for another try: PENDING again, with what went wrong.
        if (!ctx.isLastAttempt && !(err instanceof PermanentJobError) && !(err instanceof JobCancelledError) && !ctx.signal.aborted)
          await db
            .update(exports)
            .set({ state: ExportState.PENDING, errorMessage: err instanceof Error ? err.message : String(err), updateTime: sql`now()` })
            .where(and(eq(exports.id, exportId), eq(exports.state, ExportState.RUNNING)));
        throw err;
      }
    },
    async onFailed(payload, error) {
      await db
        .update(exports)
        .set({ state: ExportState.FAILED, errorMessage: error, endTime: sql`now()`, updateTime: sql`now()` })
        .where(and(eq(exports.id, String(payload.exportId)), inArray(exports.state, LIVE)));
    },
  };
}
