// Workers: the machines that run tasks (what PaddleX's `/system` shows).
// A worker registers with the queues, types and resources it offers; every
// claim and report marks it seen. A worker is online while it was seen
// within the last lease period.
import type { Database } from "@modelreg/db";
import { NotFoundError } from "../shared/errors.js";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import type { Scope } from "../shared/scope.js";
import { checkPageSize, Violations } from "../shared/validation.js";
import { InvalidArgumentError } from "../shared/errors.js";
import { requireWorkspace } from "../workspaces/index.js";
import { checkRegister, parseWorkerName, workerResourceName } from "./rules.js";
import * as q from "./sql.js";
import type { WorkerFields, WorkerListOptions, WorkerPage, WorkerRow, WorkerView } from "./types.js";

export type * from "./types.js";
export { checkGpus, freeMemoryDescending, parseWorkerName, workerResourceName } from "./rules.js";
export { selectWorker, touchWorker } from "./sql.js";

export interface WorkersDomain {
  /** Registers a worker, or replaces what it offers when it registers again. */
  register(scope: Scope, parent: string, workerId: string, f: WorkerFields): Promise<WorkerView>;
  get(scope: Scope, name: string): Promise<WorkerView>;
  /** A workspace's workers, most recently seen first. */
  list(scope: Scope, parent: string, opts: WorkerListOptions): Promise<WorkerPage>;
}

/** `onlineWithinMs`: a worker seen within this long is online (the task lease). */
export function createWorkersDomain(db: Database, onlineWithinMs: number): WorkersDomain {
  const view = async (rows: WorkerRow[]): Promise<WorkerView[]> => {
    const running = await q.runningTasks(db, rows.map((r) => r.id));
    const since = Date.now() - onlineWithinMs;
    return rows.map((row) => ({
      row,
      name: workerResourceName(row.workspace, row.workerId),
      runningTasks: running.get(row.id) ?? [],
      online: row.lastSeenTime.getTime() > since,
    }));
  };
  return {
    async register(scope, parent, workerId, f) {
      const { workspace } = checkRegister(parent, workerId, f);
      await requireWorkspace(db, scope, workspace);
      return (await view([await q.upsertWorker(db, workspace, workerId, f)]))[0]!;
    },
    async get(scope, name) {
      const row = await q.selectWorker(db, scope, parseWorkerName("name", name));
      if (!row) throw new NotFoundError("worker", name);
      return (await view([row]))[0]!;
    },
    async list(scope, parent, opts) {
      const v = new Violations();
      const limit = checkPageSize(v, opts.pageSize);
      if (!v.empty) throw new InvalidArgumentError(v.list);
      const { workspace } = parseWorkspaceName("parent", parent);
      await requireWorkspace(db, scope, workspace);
      const fp = queryFingerprint("workers", parent, String(opts.onlineOnly));
      const after = decodePageToken(opts.pageToken, fp, 2);
      const rows = await q.selectPage(db, workspace, opts.onlineOnly ? new Date(Date.now() - onlineWithinMs) : undefined, after, limit);
      const page = pageOf(rows, limit, fp, (r) => [String(r.lastSeenTime.getTime()), r.id]);
      return { workers: await view(page.rows), nextPageToken: page.nextPageToken };
    },
  };
}
