// The caller's scope: one workspace, or every workspace (null) for the
// server-wide admin key. Domain queries add it as a condition, so resources
// in other workspaces are exactly as invisible as resources that do not exist.
//
// A scope also carries the call's audit record, when the call is audited:
// mutations write it inside their own transaction (or statement), so a
// change and its audit row commit together or not at all, for one commit.
import { auditEvents } from "@modelreg/db";
import { eq, type Column, type SQL } from "drizzle-orm";

export type AuditRow = typeof auditEvents.$inferInsert;

export interface AuditHook {
  /** The call's audit row with outcome "ok". */
  values(): AuditRow;
  /** Tells the audit interceptor the row is part of the mutation's transaction. */
  markWritten(): void;
}

export interface Scope {
  workspace: string | null;
  audit?: AuditHook;
}

export function inScope(scope: Scope, column: Column): SQL | undefined {
  return scope.workspace === null ? undefined : eq(column, scope.workspace);
}

/** Writes the call's audit row in `tx`, if the call is audited. */
export async function writeAudit(tx: { insert: (table: typeof auditEvents) => { values: (v: AuditRow) => Promise<unknown> } }, scope: Scope): Promise<void> {
  if (!scope.audit) return;
  await tx.insert(auditEvents).values(scope.audit.values());
  scope.audit.markWritten();
}
