// The audit log: the audit interceptor (interceptors/audit.ts) records the
// row of each audited call that did not write it inside its own transaction
// (../shared/scope.ts writeAudit), and ListAuditEvents reads it: newest
// first, keyset-paged, filtered with the AIP-160 subset of ../shared/filter.
import type { Database } from "@modelreg/db";
import { parseFilter } from "../shared/filter/index.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import type { AuditRow, Scope } from "../shared/scope.js";
import { checkList, checkReadable } from "./rules.js";
import * as q from "./sql.js";
import { type AuditPage, toEvent } from "./types.js";

export type { AuditEvent, AuditPage, AuditRow } from "./types.js";

export interface AuditDomain {
  /** One page of a workspace's log (`workspaces/{w}`), or of every workspace's (`workspaces/-`, server-wide key only). */
  list(scope: Scope, parent: string, filter: string, pageSize: number, pageToken: string): Promise<AuditPage>;
  /** Writes one call's audit row on its own. */
  record(row: AuditRow): Promise<void>;
}

export function createAuditDomain(db: Database): AuditDomain {
  return {
    list: (scope, parent, filter, pageSize, pageToken) => listEvents(db, scope, parent, filter, pageSize, pageToken),
    record: (row) => q.insertEvent(db, row),
  };
}

async function listEvents(db: Database, scope: Scope, parent: string, filter: string, pageSize: number, pageToken: string): Promise<AuditPage> {
  const { workspace, limit } = checkList(parent, pageSize);
  checkReadable(scope, parent, workspace);
  const condition = q.filterCondition(parseFilter(filter));
  const fp = queryFingerprint("audit", parent, filter);
  const after = decodePageToken(pageToken, fp, 1);
  const rows = await q.selectPage(db, workspace, condition, after, limit);
  const page = pageOf(rows, limit, fp, (e) => [String(e.id)]);
  return { events: page.rows.map(toEvent), nextPageToken: page.nextPageToken };
}
