// Audit events as the domain hands them out, and their mapping from the
// audit_events row. The row one call leaves is AuditRow (../shared/scope.ts).
import type { AuditEventRow } from "@modelreg/db";

export type { AuditRow } from "../shared/scope.js";

export interface AuditEvent {
  name: string;
  time: Date;
  user: string;
  accessKeyId: string;
  workspace: string;
  method: string;
  resource: string;
  code: string;
  requestId: string;
}

export interface AuditPage {
  events: AuditEvent[];
  nextPageToken: string;
}

export function toEvent(row: AuditEventRow): AuditEvent {
  return {
    name: `workspaces/${row.workspace || "-"}/auditEvents/${row.id}`,
    time: row.time,
    user: row.user,
    accessKeyId: row.accessKeyId,
    workspace: row.workspace,
    method: row.method,
    resource: row.resource,
    code: row.code,
    requestId: row.requestId,
  };
}
