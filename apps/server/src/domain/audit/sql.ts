// The queries of the audit log: one insert per audited call that did not
// write its row inside its own transaction, and the keyset-paged read.
import { auditEvents, type AuditEventRow, type Database } from "@modelreg/db";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { compileFilter, type FilterExpr, type FilterFields } from "../shared/filter/index.js";
import type { AuditRow } from "../shared/scope.js";

/** The filterable fields of ListAuditEvents (stated on ListAuditEventsRequest.filter). */
const FIELDS: FilterFields = {
  user: { kind: "string", column: auditEvents.user },
  access_key_id: { kind: "string", column: auditEvents.accessKeyId },
  method: { kind: "string", column: auditEvents.method },
  resource: { kind: "string", column: auditEvents.resource },
  code: { kind: "string", column: auditEvents.code },
  request_id: { kind: "string", column: auditEvents.requestId },
  time: { kind: "timestamp", column: auditEvents.time },
};

/** The condition of a parsed filter (refusing fields the log does not have). */
export function filterCondition(expr: FilterExpr): SQL {
  return compileFilter(expr, FIELDS);
}

export async function insertEvent(db: Database, row: AuditRow): Promise<void> {
  await db.insert(auditEvents).values(row);
}

/** A page of events (of one workspace, or of all) before the id `after`, newest first. */
export async function selectPage(db: Database, workspace: string | undefined, condition: SQL, after: string[] | undefined, limit: number): Promise<AuditEventRow[]> {
  return db
    .select()
    .from(auditEvents)
    .where(and(workspace !== undefined ? eq(auditEvents.workspace, workspace) : undefined, condition, after ? lt(auditEvents.id, Number(after[0])) : undefined))
    .orderBy(desc(auditEvents.id))
    .limit(limit + 1);
}
