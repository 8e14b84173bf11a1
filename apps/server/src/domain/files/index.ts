// Files of versions: stage a draft manifest (learning which content must be
// uploaded), commit it (the version becomes READY in one transaction), list
// the committed files, and find one file of a READY version to read.
import { randomBytes } from "node:crypto";
import { blobs, type Database, modelAliases, models, uploadSessions, versionFiles, versions, type Tx } from "@modelreg/db";
import { VersionState } from "@modelreg/proto";
import { and, asc, eq, gt, notInArray, sql } from "drizzle-orm";
import { EMPTY_SHA256, claimBlob, heldBy, recordHolding } from "./blob-holdings.js";
import { EtagMismatchError, FailedPreconditionError, type FieldViolation, InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { etagOf } from "../shared/etag.js";
import { normalizeFilePath, normalizeManifestPaths } from "./paths.js";
import { manifestDigest, mediaTypeOf } from "./manifest.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { type BlobStore, isSha256 } from "../ports/blob-store.js";
import { parseVersionRefName, versionResourceName } from "../shared/resource-names.js";
import { inScope, type Scope, writeAudit } from "../shared/scope.js";
import { MAX_CHUNK_BYTES, sessionView, type UploadSessionView } from "./upload-sessions.js";
import { checkPageSize, Violations } from "../shared/validation.js";
import { toVersion, type Version, versionNotFound, versionRefWhere } from "../versions/index.js";

export const MAX_FILES_PER_VERSION = 10_000;
export const MAX_FILE_BYTES = 2 ** 40;
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;.*)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A file as a client declares it. */
export interface FileSpec {
  path: string;
  size: number;
  sha256: string;
  /** "" = chosen from the extension. */
  mediaType: string;
}

/** A committed file, with the md5 once it is known ("" before). */
export interface StoredFile extends FileSpec {
  md5: string;
}

export interface StagedFile {
  file: FileSpec;
  present: boolean;
  upload?: UploadSessionView;
}

export type VersionRef = { name: string } | { uid: string };

export interface FilesDomainDeps {
  db: Database;
  store: BlobStore;
  /** How long an upload session lives (default 7 days). */
  sessionTtlMs?: number;
  /** Largest body of one upload request, as sessions report it (default MAX_CHUNK_BYTES). */
  maxChunkBytes?: number;
}

function checkFiles(files: FileSpec[]): FileSpec[] {
  const v: FieldViolation[] = [];
  if (files.length > MAX_FILES_PER_VERSION)
    throw InvalidArgumentError.field("files", `has ${files.length} files; a version holds at most ${MAX_FILES_PER_VERSION}`);
  const { paths, violations } = normalizeManifestPaths("files", files.map((f) => f.path));
  v.push(...violations);
  const out = files.map((f, i) => {
    const at = `files[${i}]`;
    if (!Number.isSafeInteger(f.size) || f.size < 0 || f.size > MAX_FILE_BYTES)
      v.push({ field: `${at}.size_bytes`, description: `${f.size} is not a file size: expected 0 to ${MAX_FILE_BYTES} bytes (1 TiB)` });
    if (!isSha256(f.sha256))
      v.push({ field: `${at}.sha256`, description: `"${f.sha256.slice(0, 80)}" is not a sha256 digest: expected 64 lowercase hex characters` });
    else if (f.size === 0 && f.sha256 !== EMPTY_SHA256)
      v.push({ field: `${at}.sha256`, description: `an empty file's sha256 is ${EMPTY_SHA256}, not ${f.sha256}` });
    if (f.mediaType !== "" && (f.mediaType.length > 255 || !MEDIA_TYPE.test(f.mediaType) || /[\x00-\x1f\x7f]/.test(f.mediaType)))
      v.push({ field: `${at}.media_type`, description: `"${f.mediaType.slice(0, 80)}" is not a media type: expected type/subtype, e.g. application/octet-stream` });
    const path = paths[i]!;
    return { path, size: f.size, sha256: f.sha256, mediaType: f.mediaType || (path ? mediaTypeOf(path) : "") };
  });
  if (v.length) throw new InvalidArgumentError(v);
  return out;
}

const newSessionId = () => randomBytes(15).toString("base64url").replace(/[-_]/g, "x");

export type FilesDomain = ReturnType<typeof createFilesDomain>;

export function createFilesDomain(deps: FilesDomainDeps) {
  const { db, store } = deps;
  const ttlMs = deps.sessionTtlMs ?? 7 * 24 * 3600 * 1000;
  const maxChunk = deps.maxChunkBytes ?? MAX_CHUNK_BYTES;

  /** The version row (locked when `lock`), with its model's workspace and name, or NotFound. */
  async function versionRow(tx: Tx | Database, scope: Scope, ref: VersionRef, lock: boolean) {
    const n = "uid" in ref ? undefined : parseVersionRefName("name", ref.name);
    const where = n ? versionRefWhere(scope, n) : and(eq(versions.id, checkUid((ref as { uid: string }).uid)), inScope(scope, models.workspace));
    const q = tx.select({ v: versions, workspace: models.workspace, modelName: models.name }).from(versions).innerJoin(models, eq(versions.modelId, models.id)).where(where);
    const [hit] = await (lock ? q.for("update", { of: versions }) : q);
    if (!hit) {
      if (n) throw await versionNotFound(tx, scope, (ref as { name: string }).name, n);
      const uid = (ref as { uid: string }).uid;
      throw new NotFoundError("version", uid, `version with uid ${uid}`);
    }
    return { ...hit, name: versionResourceName(hit.workspace, hit.modelName, hit.v.version) };
  }

  /** Makes sure each session has its staging area and reports its committed offset. */
  async function withOffsets(rows: (typeof uploadSessions.$inferSelect)[], versionName: string): Promise<Map<string, UploadSessionView>> {
    const views = new Map<string, UploadSessionView>();
    for (const row of rows) {
      let offset = row.complete ? row.size : 0;
      if (!row.complete) {
        await store.createStaging(row.id); // idempotent
        offset = await store.stagedSize(row.id);
      }
      views.set(row.sha256, sessionView(row, versionName, offset, maxChunk));
    }
    return views;
  }

  return {
    async stage(scope: Scope, accessKeyId: string, name: string, files: FileSpec[], overwrite: boolean): Promise<{ files: StagedFile[]; bytesToUpload: number }> {
      parseVersionRefName("name", name);
      const checked = checkFiles(files);
      const sizes = new Map<string, number>();
      checked.forEach((f, i) => {
        const known = sizes.get(f.sha256);
        if (known !== undefined && known !== f.size)
          throw InvalidArgumentError.field(`files[${i}].size_bytes`, `${f.size} differs from the size ${known} given for another file with sha256 ${f.sha256}`);
        sizes.set(f.sha256, f.size);
      });
      // Empty content is stored without an upload.
      if (sizes.has(EMPTY_SHA256)) {
        await claimBlob(db, EMPTY_SHA256, 0);
        await store.put([], { expectedSha256: EMPTY_SHA256, expectedSize: 0 });
      }
      const result = await db.transaction(async (tx) => {
        const hit = await versionRow(tx, scope, { name }, true);
        if (hit.v.state === VersionState.READY && !overwrite)
          throw new FailedPreconditionError(
            "VERSION_READY",
            `${hit.name} is READY and its files are immutable; stage with overwrite to replace them (the current files stay readable until the commit)`,
            { resource: hit.name },
          );
        await tx.delete(versionFiles).where(and(eq(versionFiles.versionId, hit.v.id), eq(versionFiles.draft, true)));
        for (let i = 0; i < checked.length; i += 2000)
          await tx.insert(versionFiles).values(checked.slice(i, i + 2000).map((f) => ({ versionId: hit.v.id, draft: true, ...f })));
        await tx.update(versions).set({ draftStaged: true, updateTime: sql`now()` }).where(eq(versions.id, hit.v.id));
        if (sizes.has(EMPTY_SHA256)) await recordHolding(tx, hit.workspace, EMPTY_SHA256, "d41d8cd98f00b204e9800998ecf8427e");
        const held = await heldBy(tx, hit.workspace, [...sizes.keys()]);
        const missing = [...sizes].filter(([sha]) => !held.has(sha));
        const dropped = await tx
          .delete(uploadSessions)
          .where(and(eq(uploadSessions.versionId, hit.v.id), missing.length ? notInArray(uploadSessions.sha256, missing.map(([s]) => s)) : undefined))
          .returning({ id: uploadSessions.id });
        const sessions = missing.length
          ? await tx
              .insert(uploadSessions)
              .values(
                missing.map(([sha256, size]) => ({
                  id: newSessionId(),
                  workspace: hit.workspace,
                  versionId: hit.v.id,
                  sha256,
                  size,
                  accessKeyId,
                  expireTime: new Date(Date.now() + ttlMs),
                })),
              )
              .onConflictDoUpdate({
                target: [uploadSessions.versionId, uploadSessions.sha256],
                set: { expireTime: sql`excluded.expire_time`, accessKeyId: sql`excluded.access_key_id` },
              })
              .returning()
          : [];
        await writeAudit(tx, scope);
        return { hit, held, sessions, dropped };
      });
      for (const d of result.dropped) await store.abortStaging(d.id);
      const views = await withOffsets(result.sessions, result.hit.name);
      let bytesToUpload = 0;
      for (const view of views.values()) bytesToUpload += view.size - view.committedOffset;
      return {
        files: checked.map((file) => (result.held.has(file.sha256) ? { file, present: true } : { file, present: false, upload: views.get(file.sha256) })),
        bytesToUpload,
      };
    },

    async commit(scope: Scope, name: string, etag: string): Promise<Version> {
      parseVersionRefName("name", name);
      const { version, sessions } = await db.transaction(async (tx) => {
        const hit = await versionRow(tx, scope, { name }, true);
        const current = etagOf(hit.v.id, hit.v.revision);
        if (etag !== "" && etag !== current) throw new EtagMismatchError(hit.name, current);
        if (!hit.v.draftStaged)
          throw new FailedPreconditionError("NOTHING_STAGED", `${hit.name} has no staged files to commit; call StageVersionFiles first`, { resource: hit.name });
        const draft = await tx
          .select({ path: versionFiles.path, size: versionFiles.size, sha256: versionFiles.sha256 })
          .from(versionFiles)
          .where(and(eq(versionFiles.versionId, hit.v.id), eq(versionFiles.draft, true)));
        const held = await heldBy(tx, hit.workspace, [...new Set(draft.map((f) => f.sha256))]);
        const missing = draft.filter((f) => !held.has(f.sha256));
        if (missing.length) {
          const shown = missing.slice(0, 5).map((f) => f.path).join(", ");
          throw new FailedPreconditionError(
            "UPLOADS_INCOMPLETE",
            `${missing.length} staged file(s) of ${hit.name} are not uploaded yet (${shown}${missing.length > 5 ? ", ..." : ""}); finish their upload sessions, then commit again`,
            { resource: hit.name, missing_files: String(missing.length) },
          );
        }
        await tx.delete(versionFiles).where(and(eq(versionFiles.versionId, hit.v.id), eq(versionFiles.draft, false)));
        await tx.update(versionFiles).set({ draft: false }).where(and(eq(versionFiles.versionId, hit.v.id), eq(versionFiles.draft, true)));
        const [row] = await tx
          .update(versions)
          .set({
            state: VersionState.READY,
            fileCount: draft.length,
            totalSize: draft.reduce((n, f) => n + f.size, 0),
            manifestDigest: manifestDigest(draft),
            draftStaged: false,
            revision: sql`${versions.revision} + 1`,
            updateTime: sql`now()`,
          })
          .where(eq(versions.id, hit.v.id))
          .returning();
        const sessions = await tx.delete(uploadSessions).where(eq(uploadSessions.versionId, hit.v.id)).returning({ id: uploadSessions.id, complete: uploadSessions.complete });
        await writeAudit(tx, scope);
        const aliases = await tx.select({ alias: modelAliases.alias }).from(modelAliases).where(eq(modelAliases.versionId, hit.v.id)).orderBy(asc(modelAliases.alias));
        return { version: toVersion(row!, { workspace: hit.workspace, name: hit.modelName }, aliases.map((a) => a.alias)), sessions };
      });
      for (const s of sessions) if (!s.complete) await store.abortStaging(s.id);
      return version;
    },

    async list(scope: Scope, ref: VersionRef, pageSize: number, pageToken: string, path: string) {
      const v = new Violations();
      const limit = checkPageSize(v, pageSize, 1000, 10_000);
      let only: string | undefined;
      if (path !== "") {
        const r = normalizeFilePath(path);
        if (r.error !== undefined) v.add("path", `"${path.slice(0, 80)}" ${r.error}`);
        only = r.path;
      }
      if (!v.empty) throw new InvalidArgumentError(v.list);
      const hit = await versionRow(db, scope, ref, false);
      requireReady(hit.name, hit.v.state);
      const fp = queryFingerprint("files", hit.v.id, hit.v.manifestDigest);
      const after = decodePageToken(pageToken, fp, 1);
      const rows = await db
        .select({ path: versionFiles.path, size: versionFiles.size, sha256: versionFiles.sha256, mediaType: versionFiles.mediaType, md5: blobs.md5 })
        .from(versionFiles)
        .leftJoin(blobs, eq(blobs.sha256, versionFiles.sha256))
        .where(
          and(
            eq(versionFiles.versionId, hit.v.id),
            eq(versionFiles.draft, false),
            only !== undefined ? eq(versionFiles.path, only) : undefined,
            after ? gt(versionFiles.path, after[0]!) : undefined,
          ),
        )
        .orderBy(asc(versionFiles.path))
        .limit(limit + 1);
      if (only !== undefined && rows.length === 0) throw new NotFoundError("file", `${hit.name}/files/${only}`);
      const page = pageOf(rows, limit, fp, (r) => [r.path]);
      return {
        workspace: hit.workspace,
        version: hit.name,
        manifestDigest: hit.v.manifestDigest,
        files: page.rows.map((r): StoredFile => ({ ...r, md5: r.md5 ?? "" })),
        nextPageToken: page.nextPageToken,
      };
    },

    /** One file of a READY version, for reading. */
    async file(scope: Scope, ref: VersionRef, path: string): Promise<{ workspace: string; version: string; file: StoredFile }> {
      const r = normalizeFilePath(path);
      if (r.error !== undefined) throw InvalidArgumentError.field("path", `"${path.slice(0, 80)}" ${r.error}`);
      const page = await this.list(scope, ref, 1, "", r.path);
      return { workspace: page.workspace, version: page.version, file: page.files[0]! };
    },

  };
}

function checkUid(uid: string): string {
  if (!UUID.test(uid)) throw InvalidArgumentError.field("uid", `"${uid.slice(0, 40)}" is not a version uid (a UUID)`);
  return uid.toLowerCase();
}

function requireReady(name: string, state: number): void {
  if (state !== VersionState.READY)
    throw new FailedPreconditionError("VERSION_PENDING", `${name} is PENDING: its files are not all uploaded and committed yet, so they cannot be read`, {
      resource: name,
    });
}
