// Versions: create (with race-free auto-numbering), get, list, update, delete.
import { and, desc, eq, sql } from "drizzle-orm";
import { models, versions, type Database, type VersionRow } from "@modelreg/db";
import { AlreadyExistsError, EtagMismatchError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "./errors.js";
import { etagOf } from "./etag.js";
import { isUniqueViolation } from "./db-errors.js";
import { decodePageToken, encodePageToken, queryFingerprint } from "./page-token.js";
import { modelResourceName, parseModelName, parseVersionName, versionResourceName, type ModelName, type VersionName } from "./resource-names.js";
import { nextVersion, parseSemver } from "./semver.js";
import { resolveUpdateMask } from "./update-mask.js";
import { checkCommonFields, checkPageSize, collect, Violations } from "./validation.js";

export interface Version {
  uid: string;
  name: string;
  version: string;
  description: string;
  labels: Record<string, string>;
  createTime: Date;
  updateTime: Date;
  etag: string;
  /** Resource name of the model. */
  model: string;
  modelUid: string;
}

/** The user-settable fields of a version. */
export interface VersionFields {
  description: string;
  labels: Record<string, string>;
}

const UPDATABLE = ["description", "labels"] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ModelRef {
  workspace: string;
  name: string;
}

function toVersion(row: VersionRow, m: ModelRef): Version {
  return {
    uid: row.id,
    name: versionResourceName(m.workspace, m.name, row.version),
    version: row.version,
    description: row.description,
    labels: row.labels,
    createTime: row.createTime,
    updateTime: row.updateTime,
    etag: etagOf(row.id, row.revision),
    model: modelResourceName(m.workspace, m.name),
    modelUid: row.modelId,
  };
}

/** (sortKey, version) of a is greater than that of b. */
function isHigher(aKey: string, aVersion: string, bKey: string, bVersion: string): boolean {
  return aKey !== bKey ? aKey > bKey : aVersion > bVersion;
}

export type VersionsDomain = ReturnType<typeof createVersionsDomain>;

export function createVersionsDomain(db: Database) {
  const modelWhere = (n: ModelName) => and(eq(models.workspace, n.workspace), eq(models.nameKey, n.model.toLowerCase()));
  const joined = { v: versions, workspace: models.workspace, modelName: models.name } as const;

  // The read path is hot: build its statements once.
  const getByName = db
    .select(joined)
    .from(versions)
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(
      and(
        eq(models.workspace, sql.placeholder("workspace")),
        eq(models.nameKey, sql.placeholder("model")),
        eq(versions.version, sql.placeholder("version")),
      ),
    )
    .prepare("modelreg_get_version_by_name");
  const getByUid = db
    .select(joined)
    .from(versions)
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(eq(versions.id, sql.placeholder("uid")))
    .prepare("modelreg_get_version_by_uid");

  const lookup = async (n: VersionName) =>
    (await getByName.execute({ workspace: n.workspace, model: n.model.toLowerCase(), version: n.version }))[0];

  return {
    async create(parent: string, versionId: string, fields: VersionFields): Promise<Version> {
      const v = new Violations();
      const n = collect(v, () => parseModelName("parent", parent));
      if (versionId !== "") {
        const problem = parseSemver(versionId).error;
        if (problem) v.add("version_id", problem);
      }
      checkCommonFields(v, "version", fields);
      if (!v.empty || !n) throw new InvalidArgumentError(v.list);
      let attempted = versionId;
      try {
        return await db.transaction(async (tx) => {
          // Locking the model row serialises version creation per model, so
          // auto-numbering sees every committed version and never collides.
          const [m] = await tx
            .select({ id: models.id, workspace: models.workspace, name: models.name, latestVersion: models.latestVersion, latestSortKey: models.latestSortKey })
            .from(models)
            .where(modelWhere(n))
            .for("update");
          if (!m) throw new NotFoundError("model", parent);
          const version = versionId !== "" ? versionId : nextVersion(m.latestVersion);
          attempted = versionResourceName(m.workspace, m.name, version);
          const parsed = parseSemver(version);
          if (!parsed.version)
            throw new FailedPreconditionError("VERSION_SPACE_EXHAUSTED", `cannot assign a version after ${m.latestVersion}: ${parsed.error}; give version_id explicitly`);
          const [row] = await tx
            .insert(versions)
            .values({ modelId: m.id, version, sortKey: parsed.sortKey, description: fields.description, labels: fields.labels })
            .returning();
          const higher = isHigher(parsed.sortKey, version, m.latestSortKey, m.latestVersion);
          await tx
            .update(models)
            .set({
              versionCount: sql`${models.versionCount} + 1`,
              ...(higher ? { latestVersion: version, latestSortKey: parsed.sortKey } : {}),
            })
            .where(eq(models.id, m.id));
          return toVersion(row!, m);
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new AlreadyExistsError("version", attempted);
        throw e;
      }
    },

    async get(ref: { name: string } | { uid: string }): Promise<Version> {
      if ("uid" in ref) {
        if (!UUID.test(ref.uid)) throw InvalidArgumentError.field("uid", `"${ref.uid.slice(0, 40)}" is not a version uid (a UUID such as 0190b6d2-7a1c-4c55-9e0e-6f1b2c3d4e5f)`);
        const [hit] = await getByUid.execute({ uid: ref.uid.toLowerCase() });
        if (!hit) throw new NotFoundError("version with uid", ref.uid);
        return toVersion(hit.v, { workspace: hit.workspace, name: hit.modelName });
      }
      const n = parseVersionName("name", ref.name);
      const hit = await lookup(n);
      if (!hit) throw new NotFoundError("version", ref.name);
      return toVersion(hit.v, { workspace: hit.workspace, name: hit.modelName });
    },

    async list(parent: string, pageSize: number, pageToken: string): Promise<{ versions: Version[]; nextPageToken: string }> {
      const v = new Violations();
      const n = collect(v, () => parseModelName("parent", parent));
      const limit = checkPageSize(v, pageSize);
      if (!v.empty || !n) throw new InvalidArgumentError(v.list);
      const [m] = await db.select({ id: models.id, workspace: models.workspace, name: models.name }).from(models).where(modelWhere(n));
      if (!m) throw new NotFoundError("model", parent);
      const fp = queryFingerprint("versions", m.id);
      const after = decodePageToken(pageToken, fp, 2);
      const rows = await db
        .select()
        .from(versions)
        .where(and(eq(versions.modelId, m.id), after ? sql`(${versions.sortKey}, ${versions.version}) < (${after[0]}, ${after[1]})` : undefined))
        .orderBy(desc(versions.sortKey), desc(versions.version))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        versions: page.map((r) => toVersion(r, m)),
        nextPageToken: rows.length > limit && last ? encodePageToken(fp, [last.sortKey, last.version]) : "",
      };
    },

    async update(name: string, etag: string, paths: string[], fields: VersionFields): Promise<Version> {
      const n = parseVersionName("version.name", name);
      const mask = resolveUpdateMask(paths, UPDATABLE);
      const v = new Violations();
      checkCommonFields(v, "version", {
        description: mask.has("description") ? fields.description : undefined,
        labels: mask.has("labels") ? fields.labels : undefined,
      });
      if (!v.empty) throw new InvalidArgumentError(v.list);
      return db.transaction(async (tx) => {
        const [hit] = await tx
          .select(joined)
          .from(versions)
          .innerJoin(models, eq(versions.modelId, models.id))
          .where(and(modelWhere(n), eq(versions.version, n.version)))
          .for("update", { of: versions });
        if (!hit) throw new NotFoundError("version", name);
        const current = etagOf(hit.v.id, hit.v.revision);
        if (etag !== "" && etag !== current) throw new EtagMismatchError(versionResourceName(hit.workspace, hit.modelName, hit.v.version), current);
        const [row] = await tx
          .update(versions)
          .set({
            ...(mask.has("description") ? { description: fields.description } : {}),
            ...(mask.has("labels") ? { labels: fields.labels } : {}),
            revision: sql`${versions.revision} + 1`,
            updateTime: sql`now()`,
          })
          .where(eq(versions.id, hit.v.id))
          .returning();
        return toVersion(row!, { workspace: hit.workspace, name: hit.modelName });
      });
    },

    async delete(name: string, etag: string): Promise<void> {
      const n = parseVersionName("name", name);
      await db.transaction(async (tx) => {
        const [m] = await tx
          .select({ id: models.id, workspace: models.workspace, name: models.name, latestVersion: models.latestVersion })
          .from(models)
          .where(modelWhere(n))
          .for("update");
        if (!m) throw new NotFoundError("version", name);
        const [row] = await tx.select().from(versions).where(and(eq(versions.modelId, m.id), eq(versions.version, n.version)));
        if (!row) throw new NotFoundError("version", name);
        const current = etagOf(row.id, row.revision);
        if (etag !== "" && etag !== current) throw new EtagMismatchError(versionResourceName(m.workspace, m.name, row.version), current);
        await tx.delete(versions).where(eq(versions.id, row.id));
        // Deleting the highest version moves "latest" to the next one down.
        let latest: { latestVersion: string; latestSortKey: string } | undefined;
        if (row.version === m.latestVersion) {
          const [next] = await tx
            .select({ version: versions.version, sortKey: versions.sortKey })
            .from(versions)
            .where(eq(versions.modelId, m.id))
            .orderBy(desc(versions.sortKey), desc(versions.version))
            .limit(1);
          latest = { latestVersion: next?.version ?? "", latestSortKey: next?.sortKey ?? "" };
        }
        await tx
          .update(models)
          .set({ versionCount: sql`${models.versionCount} - 1`, ...latest })
          .where(eq(models.id, m.id));
      });
    },
  };
}
