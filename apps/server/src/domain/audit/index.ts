// Reading the audit log (the audit interceptor writes it): newest first,
// keyset-paged, filtered with the AIP-160 subset of ../shared/filter.
import { auditEvents, type AuditEventRow, type Database } from "@modelreg/db";
import { and, desc, eq, lt } from "drizzle-orm";
import { InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { compileFilter, parseFilter, type FilterFields } from "../shared/filter/index.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import type { Scope } from "../shared/scope.js";
import { checkPageSize, Violations } from "../shared/validation.js";

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

const FIELDS: FilterFields = {
  user: { kind: "string", column: auditEvents.user },
  access_key_id: { kind: "string", column: auditEvents.accessKeyId },
  method: { kind: "string", column: auditEvents.method },
  resource: { kind: "string", column: auditEvents.resource },
  code: { kind: "string", column: auditEvents.code },
  request_id: { kind: "string", column: auditEvents.requestId },
  time: { kind: "timestamp", column: auditEvents.time },
};

function toEvent(row: AuditEventRow): AuditEvent {
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

export type AuditDomain = ReturnType<typeof createAuditDomain>;

export function createAuditDomain(db: Database) {
  return {
    async list(scope: Scope, parent: string, filter: string, pageSize: number, pageToken: string): Promise<{ events: AuditEvent[]; nextPageToken: string }> {
      const v = new Violations();
      const all = parent === "workspaces/-";
      let workspace: string | undefined;
      if (!all) {
        try {
          workspace = parseWorkspaceName("parent", parent).workspace;
        } catch (e) {
          if (!(e instanceof InvalidArgumentError)) throw e;
          v.list.push(...e.violations);
        }
      }
      const limit = checkPageSize(v, pageSize);
      if (!v.empty) throw new InvalidArgumentError(v.list);
      // Another workspace's log, or all of them without the server-wide key, is simply not there.
      if ((all && scope.workspace !== null) || (workspace !== undefined && scope.workspace !== null && scope.workspace !== workspace))
        throw new NotFoundError("audit log", parent, `audit log of ${parent}`);
      const condition = compileFilter(parseFilter(filter), FIELDS);
      const fp = queryFingerprint("audit", parent, filter);
      const after = decodePageToken(pageToken, fp, 1);
      const rows = await db
        .select()
        .from(auditEvents)
        .where(and(workspace !== undefined ? eq(auditEvents.workspace, workspace) : undefined, condition, after ? lt(auditEvents.id, Number(after[0])) : undefined))
        .orderBy(desc(auditEvents.id))
        .limit(limit + 1);
      const page = pageOf(rows, limit, fp, (e) => [String(e.id)]);
      return { events: page.rows.map(toEvent), nextPageToken: page.nextPageToken };
    },
  };
}
