// The modelreg database schema. Migrations under ../drizzle are generated
// from this file by drizzle-kit (`npm run generate:migration -w @modelreg/db`)
// and applied by the server at start.
import { sql } from "drizzle-orm";
import { tasks } from "./schema-tasks.js";
import { bigint, bigserial, boolean, customType, doublePrecision, index, integer, jsonb, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/** Text compared byte by byte (COLLATE "C"), so SQL order equals JS order. */
const byteText = customType<{ data: string }>({
  dataType() {
    return 'text COLLATE "C"';
  },
});

const times = {
  createTime: timestamp("create_time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updateTime: timestamp("update_time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
};

/** Tenants. Every model lives in exactly one; `default` always exists. */
export const workspaces = pgTable("workspaces", {
  name: text("name").primaryKey(),
  uid: uuid("uid").notNull().unique().default(sql`gen_random_uuid()`),
  description: text("description").notNull().default(""),
  ...times,
});

/** Models: named families of versions. */
export const models = pgTable(
  "models",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name),
    /** The name as given at creation. */
    name: text("name").notNull(),
    /** lower(name): the uniqueness and lookup key. */
    nameKey: byteText("name_key").notNull(),
    description: text("description").notNull().default(""),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    /** Bumped on every user-visible change; the etag is derived from it. */
    revision: integer("revision").notNull().default(1),
    /** Maintained by version create/delete, under the model row lock. */
    versionCount: integer("version_count").notNull().default(0),
    /** Highest version by semver precedence ("" when none) and its sort key. */
    latestVersion: byteText("latest_version").notNull().default(""),
    /**
     * The version auto-numbering assigns next, kept ready so CreateVersion
     * is one statement: nextAutoPrefix || nextAutoPatch ("1.4." || 3), with
     * sort key nextAutoKeyPrefix || encoded patch || "~" (see domain/semver).
     * Only ever grows, so a deleted version's number is never handed out again.
     */
    nextAutoPrefix: byteText("next_auto_prefix").notNull().default("1.0."),
    nextAutoKeyPrefix: byteText("next_auto_key_prefix").notNull().default("A1A0"),
    nextAutoPatch: bigint("next_auto_patch", { mode: "number" }).notNull().default(0),
    /** CreateModel's request_id, unique per workspace: a retry returns this model. */
    requestId: text("request_id"),
    ...times,
  },
  (t) => [uniqueIndex("models_workspace_name_key").on(t.workspace, t.nameKey), uniqueIndex("models_workspace_request_key").on(t.workspace, t.requestId)],
);

/** Versions of models. */
export const versions = pgTable(
  "versions",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    modelId: uuid("model_id")
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    /** The semantic version as given, e.g. 2.1.0-rc.1. */
    version: byteText("version").notNull(),
    /** Order-preserving encoding of semver precedence (see domain/semver). */
    sortKey: byteText("sort_key").notNull(),
    description: text("description").notNull().default(""),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    /** Lineage: the training algorithm (code and version) that produced it. */
    trainingAlgorithmCode: text("training_algorithm_code").notNull().default(""),
    trainingAlgorithmVersion: text("training_algorithm_version").notNull().default(""),
    revision: integer("revision").notNull().default(1),
    /** modelreg.v1.VersionState: 1 pending, 2 ready. */
    state: smallint("state").notNull().default(1),
    /** The committed manifest (version_files rows with draft = false), summed up. */
    fileCount: integer("file_count").notNull().default(0),
    totalSize: bigint("total_size", { mode: "number" }).notNull().default(0),
    manifestDigest: text("manifest_digest").notNull().default(""),
    /** A draft manifest is staged (it may hold no files). */
    draftStaged: boolean("draft_staged").notNull().default(false),
    /** The model's workspace, copied (models never move), so lists across models need no join. */
    workspace: text("workspace").notNull(),
    /** Creation order: the tie-breaker of every ordering and keyset. */
    seq: bigserial("seq", { mode: "number" }).notNull(),
    /** modelreg.v1.Lifecycle: 1 active, 2 archived. */
    lifecycle: smallint("lifecycle").notNull().default(1),
    /** modelreg.v1.Framework number; 0 = not stated. */
    framework: smallint("framework").notNull().default(0),
    runtime: text("runtime").notNull().default(""),
    algorithm: text("algorithm").notNull().default(""),
    /** Lineage beyond the training algorithm. */
    sourceLocation: text("source_location").notNull().default(""),
    sourceTask: text("source_task").notNull().default(""),
    sourceJobId: text("source_job_id").notNull().default(""),
    sourceJobVersion: text("source_job_version").notNull().default(""),
    dataVersion: text("data_version").notNull().default(""),
    sourceType: text("source_type").notNull().default(""),
    metrics: jsonb("metrics").$type<Record<string, number>>().notNull().default({}),
    /**
     * The rest of the metadata, as the proto's JSON (install_types,
     * preprocessing_parameters, processing_code, interface, dependencies,
     * documents, readme, template, initial_config).
     */
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    /** CreateVersion's request_id, unique per model: a retry returns this version. */
    requestId: text("request_id"),
    ...times,
  },
  (t) => [
    uniqueIndex("versions_model_version_key").on(t.modelId, t.version),
    index("versions_model_semver_idx").on(t.modelId, t.sortKey, t.seq),
    uniqueIndex("versions_model_request_key").on(t.modelId, t.requestId),
    // Plain ascending: scanned backwards it gives `seq DESC` (NULLS FIRST),
    // the order queries ask for; a `DESC NULLS LAST` index could not serve it.
    index("versions_model_seq_idx").on(t.modelId, t.seq),
    index("versions_workspace_seq_idx").on(t.workspace, t.seq),
    index("versions_labels_idx").using("gin", sql`${t.labels} jsonb_path_ops`),
    index("versions_data_version_idx").on(t.workspace, t.dataVersion),
    index("versions_source_task_idx").on(t.workspace, t.sourceTask),
  ],
);

/**
 * Metrics of versions, one row each, so lists ordered by a metric read an
 * index (any metric name, within a model or across a workspace).
 */
export const versionMetrics = pgTable(
  "version_metrics",
  {
    versionId: uuid("version_id")
      .notNull()
      .references(() => versions.id, { onDelete: "cascade" }),
    modelId: uuid("model_id").notNull(),
    workspace: text("workspace").notNull(),
    name: byteText("name").notNull(),
    value: doublePrecision("value").notNull(),
    /** The version's seq, the tie-breaker. */
    seq: bigint("seq", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.versionId, t.name] }),
    index("version_metrics_workspace_idx").on(t.workspace, t.name, t.value, t.seq),
    index("version_metrics_model_idx").on(t.modelId, t.name, t.value, t.seq),
  ],
);

/** Aliases of models: a name pointing at one version. */
export const modelAliases = pgTable(
  "model_aliases",
  {
    modelId: uuid("model_id")
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    alias: byteText("alias").notNull(),
    versionId: uuid("version_id")
      .notNull()
      .references(() => versions.id, { onDelete: "cascade" }),
    protected: boolean("protected").notNull().default(false),
    updateTime: timestamp("update_time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.alias] }), index("model_aliases_version_idx").on(t.versionId)],
);

/**
 * Files of versions: the committed manifest (draft = false) and the one being
 * staged (draft = true), swapped in one transaction by a commit.
 */
export const versionFiles = pgTable(
  "version_files",
  {
    versionId: uuid("version_id")
      .notNull()
      .references(() => versions.id, { onDelete: "cascade" }),
    draft: boolean("draft").notNull(),
    path: byteText("path").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    sha256: text("sha256").notNull(),
    mediaType: text("media_type").notNull(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.draft, t.path] }), index("version_files_sha256_idx").on(t.sha256)],
);

/**
 * Content in the blob store, one row per sha256 (the store's object). md5 is
 * filled in after the upload, off its hot path. `claimTime` is renewed by
 * every upload about to publish this content, so garbage collection leaves
 * it alone for a grace period.
 */
export const blobs = pgTable(
  "blobs",
  {
    sha256: text("sha256").primaryKey(),
    size: bigint("size", { mode: "number" }).notNull(),
    md5: text("md5"),
    /**
     * sha256 of the content's first min(size, 1 MiB) bytes, computed from the
     * stored bytes when content is published; NULL for content stored before
     * it was kept (it may then be any content of its size). An upload whose
     * sha256 is not known yet looks content up by (size, head) in its
     * workspace (FileService.CreateUploadSession).
     */
    headSha256: text("head_sha256"),
    claimTime: timestamp("claim_time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    createTime: timestamp("create_time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("blobs_size_head_sha256_idx").on(t.size, t.headSha256)],
);

/**
 * Which workspace holds which content: a workspace is told content is
 * present (and skips the upload) only when it has uploaded it itself, so no
 * workspace learns what another stores.
 */
export const workspaceBlobs = pgTable(
  "workspace_blobs",
  {
    workspace: text("workspace")
      .notNull()
      .references(() => workspaces.name, { onDelete: "cascade" }),
    sha256: text("sha256")
      .notNull()
      .references(() => blobs.sha256),
    createTime: timestamp("create_time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspace, t.sha256] }), index("workspace_blobs_sha256_idx").on(t.sha256)],
);

/** Resumable uploads of one blob each, for the staged files of a version or of a task. */
export const uploadSessions = pgTable(
  "upload_sessions",
  {
    id: text("id").primaryKey(),
    workspace: text("workspace").notNull(),
    /** NULL once the version is deleted: garbage collection then drops the session and its bytes. */
    versionId: uuid("version_id").references(() => versions.id, { onDelete: "set null" }),
    /** For a task's checkpoint, input or output files instead of a version's; NULL once the task is deleted. */
    taskId: uuid("task_id").references(() => tasks.id, { onDelete: "set null" }),
    /**
     * The content's sha256. NULL for a session opened before its sha256 was
     * known (FileService.CreateUploadSession) until its last byte arrives;
     * then the sha256 the server computed.
     */
    sha256: text("sha256"),
    size: bigint("size", { mode: "number" }).notNull(),
    /**
     * Set only on sessions opened by CreateUploadSession (unbound: the
     * client did not know the sha256): the sha256 of the content's first
     * min(size, 1 MiB) bytes, as the client declared it. Such sessions are
     * outside the (owner, sha256) keys, so one that completes with the
     * sha256 of another session of its version coexists with it.
     */
    headSha256: text("head_sha256"),
    complete: boolean("complete").notNull().default(false),
    /** The key that staged the files; per-key upload limits count against it. */
    accessKeyId: text("access_key_id").notNull().default(""),
    createTime: timestamp("create_time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expireTime: timestamp("expire_time", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    uniqueIndex("upload_sessions_version_sha256_key").on(t.versionId, t.sha256).where(sql`${t.headSha256} IS NULL`),
    uniqueIndex("upload_sessions_task_sha256_key").on(t.taskId, t.sha256),
    index("upload_sessions_sha256_idx").on(t.sha256),
  ],
);

/**
 * The job engine's queue: background work (exports, and later tasks and
 * integrity checks) as rows any server process can claim with FOR UPDATE
 * SKIP LOCKED. A running job holds a lease it renews; when its process dies
 * the lease runs out and another process claims it again.
 */
export const jobs = pgTable(
  "jobs",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    kind: text("kind").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull().default({}),
    /** 1 queued, 2 running, 3 succeeded, 4 failed, 5 cancelled. */
    state: smallint("state").notNull().default(1),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(5),
    /** Not claimed before this time (retry back-off). */
    runAfter: timestamp("run_after", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    leaseOwner: text("lease_owner").notNull().default(""),
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }),
    cancelRequested: boolean("cancel_requested").notNull().default(false),
    lastError: text("last_error").notNull().default(""),
    ...times,
  },
  (t) => [index("jobs_claim_idx").on(t.state, t.runAfter)],
);

/**
 * Exports: one version packed into one archive (a content-addressed blob the
 * workspace holds), made by an `export` job. `sourceRevision` is the
 * version's revision the export is for, so a request after the version
 * changed makes a new export instead of returning a stale one.
 */
export const exports = pgTable(
  "exports",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    workspace: text("workspace").notNull(),
    versionId: uuid("version_id")
      .notNull()
      .references(() => versions.id, { onDelete: "cascade" }),
    /** 1 tar, 2 tar.gz, 3 zip (ExportFormat). */
    format: smallint("format").notNull(),
    /** 1 pending, 2 running, 3 succeeded, 4 failed, 5 cancelled (ExportState). */
    state: smallint("state").notNull().default(1),
    sourceRevision: integer("source_revision").notNull(),
    bytesDone: bigint("bytes_done", { mode: "number" }).notNull().default(0),
    bytesTotal: bigint("bytes_total", { mode: "number" }).notNull().default(0),
    fileName: text("file_name").notNull().default(""),
    fileType: text("file_type").notNull().default(""),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull().default(0),
    md5: text("md5").notNull().default(""),
    /** The archive's blob, once SUCCEEDED. */
    sha256: text("sha256"),
    errorMessage: text("error_message").notNull().default(""),
    attempts: integer("attempts").notNull().default(0),
    jobId: uuid("job_id"),
    ...times,
    endTime: timestamp("end_time", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("exports_version_idx").on(t.versionId, t.createTime), index("exports_sha256_idx").on(t.sha256)],
);

/**
 * Secrets that sign download and upload URLs, shared by every replica. The
 * newest signs; all verify (so URLs in flight survive a new key).
 */
export const signingKeys = pgTable("signing_keys", {
  id: text("id").primaryKey(),
  /** base64url of 32 random bytes. */
  secret: text("secret").notNull(),
  createTime: timestamp("create_time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * Access keys. `workspace` NULL marks the server-wide admin key created at
 * first start. Only a hash of the secret is kept.
 */
export const accessKeys = pgTable(
  "access_keys",
  {
    keyId: text("key_id").primaryKey(),
    workspace: text("workspace").references(() => workspaces.name, { onDelete: "cascade" }),
    user: text("user").notNull(),
    /** modelreg.v1.Role number: 1 viewer, 2 editor, 3 admin, 5 worker. */
    role: smallint("role").notNull(),
    /** `sha256$<digest>`, base64url (keys made before: `scrypt$N$r$p$salt$hash`, rehashed at their first use). */
    secretHash: text("secret_hash").notNull(),
    description: text("description").notNull().default(""),
    expireTime: timestamp("expire_time", { withTimezone: true, mode: "date" }),
    revokeTime: timestamp("revoke_time", { withTimezone: true, mode: "date" }),
    lastUsedTime: timestamp("last_used_time", { withTimezone: true, mode: "date" }),
    rotatedFrom: text("rotated_from").notNull().default(""),
    createTime: timestamp("create_time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("access_keys_workspace_idx").on(t.workspace, t.createTime.desc(), t.keyId.desc())],
);

/** The audit log: one row per mutating call, refusals included. Never updated. */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    time: timestamp("time", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** Not a foreign key: events outlive the workspace they name. "" when none. */
    workspace: text("workspace").notNull().default(""),
    user: text("user").notNull().default(""),
    accessKeyId: text("access_key_id").notNull().default(""),
    method: text("method").notNull(),
    resource: text("resource").notNull().default(""),
    code: text("code").notNull(),
    requestId: text("request_id").notNull().default(""),
  },
  // One index besides the key: events are read newest first per workspace
  // (id order is time order); every extra index is paid on each audited call.
  (t) => [index("audit_events_workspace_idx").on(t.workspace, t.id.desc())],
);

export * from "./schema-tasks.js";

export type ModelAliasRow = typeof modelAliases.$inferSelect;
export type VersionMetricRow = typeof versionMetrics.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type ExportRow = typeof exports.$inferSelect;
export type BlobRow = typeof blobs.$inferSelect;
export type UploadSessionRow = typeof uploadSessions.$inferSelect;
export type VersionFileRow = typeof versionFiles.$inferSelect;
export type AccessKeyRow = typeof accessKeys.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;
export type ModelRow = typeof models.$inferSelect;
export type VersionRow = typeof versions.$inferSelect;
export type WorkspaceRow = typeof workspaces.$inferSelect;
