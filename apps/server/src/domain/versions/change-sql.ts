// Changing and deleting versions: the rows locked, the columns set, and the
// model's counters kept true ("latest" moves down when the highest version
// goes).
import { models, type Tx, versionMetrics, type VersionRow, versions } from "@modelreg/db";
import { and, desc, eq, sql } from "drizzle-orm";
import type { ModelName, VersionRefName } from "../shared/resource-names.js";
import type { Scope } from "../shared/scope.js";
import { writeMetrics } from "./create-sql.js";
import { type Hit, JOINED, modelWhere, versionRefWhere } from "./lookup-sql.js";
import { splitMetadata, type VersionMetadata } from "./metadata.js";
import type { UpdatableField } from "./rules.js";
import type { VersionFields } from "./types.js";

/** The version named, locked for a change. */
export async function lockVersion(tx: Tx, scope: Scope, n: VersionRefName): Promise<Hit | undefined> {
  const [hit] = await tx
    .select(JOINED)
    .from(versions)
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(versionRefWhere(scope, n))
    .for("update", { of: versions });
  return hit;
}

/** Sets the masked fields (metadata already merged), moves the revision on, and rewrites the metric index when metrics changed. */
export async function updateVersion(
  tx: Tx,
  id: string,
  u: { mask: Set<UpdatableField>; fields: VersionFields; metadata: VersionMetadata | undefined },
): Promise<VersionRow> {
  const { mask, fields } = u;
  const [row] = await tx
    .update(versions)
    .set({
      ...(mask.has("description") ? { description: fields.description } : {}),
      ...(mask.has("labels") ? { labels: fields.labels } : {}),
      ...(mask.has("lifecycle") ? { lifecycle: fields.lifecycle } : {}),
      ...(u.metadata ? splitMetadata(u.metadata) : {}),
      revision: sql`${versions.revision} + 1`,
      updateTime: sql`now()`,
    })
    .where(eq(versions.id, id))
    .returning();
  if (mask.has("metrics")) {
    await tx.delete(versionMetrics).where(eq(versionMetrics.versionId, row!.id));
    await writeMetrics(tx, row!);
  }
  return row!;
}

/** The model of a version about to be deleted, locked so its counters move with the delete. */
export async function lockModel(tx: Tx, scope: Scope, n: ModelName) {
  const [m] = await tx
    .select({ id: models.id, workspace: models.workspace, name: models.name, latestVersion: models.latestVersion })
    .from(models)
    .where(modelWhere(scope, n))
    .for("update");
  return m;
}

/** The version named, within the locked model. */
export async function selectInModel(tx: Tx, scope: Scope, modelId: string, n: VersionRefName): Promise<VersionRow | undefined> {
  const [row] = await tx
    .select({ v: versions })
    .from(versions)
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(and(eq(versions.modelId, modelId), versionRefWhere(scope, n)));
  return row?.v;
}

/** Deletes the version (its aliases and metrics go with it: foreign keys cascade) and moves the model's counters. */
export async function deleteVersion(tx: Tx, m: { id: string; latestVersion: string }, row: VersionRow): Promise<void> {
  await tx.delete(versions).where(eq(versions.id, row.id));
  // Deleting the highest version moves "latest" to the next one down.
  let latest: { latestVersion: string } | undefined;
  if (row.version === m.latestVersion) {
    const [next] = await tx
      .select({ version: versions.version })
      .from(versions)
      .where(eq(versions.modelId, m.id))
      .orderBy(desc(versions.sortKey), desc(versions.seq))
      .limit(1);
    latest = { latestVersion: next?.version ?? "" };
  }
  await tx
    .update(models)
    .set({ versionCount: sql`${models.versionCount} - 1`, ...latest })
    .where(eq(models.id, m.id));
}
