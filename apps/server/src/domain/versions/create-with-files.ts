// Creating a version that is READY at once, its files given (content the
// workspace holds already: a task's checkpoint or outputs): the version's
// row, its files and the audit row in one transaction, so nobody ever sees
// it PENDING or without its files. Auto-numbering takes the locked model's
// next number, as a named create moves it.
import type { Database, Tx, VersionRow } from "@modelreg/db";
import { isUniqueViolation } from "../shared/db-errors.js";
import { AlreadyExistsError, NotFoundError } from "../shared/errors.js";
import { modelResourceName, versionResourceName } from "../shared/resource-names.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { autoVersion, parseSemver } from "../shared/semver.js";
import { insertNamed, lockModelForCreate } from "./create-sql.js";
import { selectByRequestId } from "./lookup-sql.js";
import { toVersion } from "./mapping.js";
import { checkCreate } from "./rules.js";
import type { Lineage, Version, VersionFields } from "./types.js";

export interface VersionWithFiles {
  parent: string;
  versionId: string;
  fields: VersionFields;
  lineage: Lineage;
  requestId: string;
  /** Inside the transaction: gives the new version its files and makes it READY; returns its row after. */
  fill: (tx: Tx, version: { id: string; workspace: string; name: string }) => Promise<VersionRow>;
}

export async function createVersionWithFiles(db: Database, scope: Scope, c: VersionWithFiles): Promise<Version> {
  const { model: n, fields } = checkCreate(c.parent, c.versionId, c.fields, c.lineage, c.requestId);
  const earlier = c.requestId ? await selectByRequestId(db, scope, n, c.requestId) : undefined;
  if (earlier) return earlier;
  let attempted = modelResourceName(n.workspace, n.model);
  try {
    return await db.transaction(async (tx) => {
      const m = await lockModelForCreate(tx, scope, n);
      if (!m) throw new NotFoundError("model", modelResourceName(n.workspace, n.model));
      const next = autoVersion({ prefix: m.nextAutoPrefix, keyPrefix: m.nextAutoKeyPrefix, patch: m.nextAutoPatch });
      const versionId = c.versionId || next.version;
      attempted = versionResourceName(m.workspace, m.name, versionId);
      const row = await insertNamed(tx, m, { versionId, sortKey: parseSemver(versionId).sortKey!, fields, lineage: c.lineage, requestId: c.requestId });
      const ready = await c.fill(tx, { id: row.id, workspace: m.workspace, name: attempted });
      await writeAudit(tx, scope);
      return toVersion(ready, m);
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    const raced = c.requestId ? await selectByRequestId(db, scope, n, c.requestId) : undefined;
    if (raced) return raced;
    throw new AlreadyExistsError("version", attempted);
  }
}
