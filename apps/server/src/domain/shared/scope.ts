// The caller's scope: one workspace, or every workspace (null) for the
// server-wide admin key. Domain queries add it as a condition, so resources
// in other workspaces are exactly as invisible as resources that do not exist.
//
// A scope also carries the call's audit record, when the call is audited:
// mutations write it inside their own transaction (or statement), so a
// change and its audit row commit together or not at all, for one commit.
import { auditEvents } from "@modelreg/db";
import { eq, type Column, type SQL, sql } from "drizzle-orm";

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

/**
 * Writing the audit row inside a mutation that is one prepared statement:
 * `auditInsert(from)` is a data-modifying CTE body that inserts the row
 * (once per row of `from`, which holds the one changed row) when the
 * statement's `audited` placeholder is true, and `auditParams(scope)` gives
 * its placeholder values. Call `auditWritten(scope)` after the statement
 * succeeded.
 */
export function auditInsert(from: SQL): SQL {
  const p = (name: string) => sql.placeholder(`audit_${name}`);
  return sql`INSERT INTO ${auditEvents} (workspace, "user", access_key_id, method, resource, code, request_id)
    SELECT ${p("workspace")}, ${p("user")}, ${p("access_key_id")}, ${p("method")}, ${p("resource")}, ${p("code")}, ${p("request_id")}
    FROM ${from} WHERE ${p("audited")}::boolean`;
}

export function auditParams(scope: Scope): Record<string, string | boolean> {
  const row = scope.audit?.values();
  return {
    audit_audited: row !== undefined,
    audit_workspace: row?.workspace ?? "",
    audit_user: row?.user ?? "",
    audit_access_key_id: row?.accessKeyId ?? "",
    audit_method: row?.method ?? "",
    audit_resource: row?.resource ?? "",
    audit_code: row?.code ?? "",
    audit_request_id: row?.requestId ?? "",
  };
}

export function auditWritten(scope: Scope): void {
  scope.audit?.markWritten();
}
