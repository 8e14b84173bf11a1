// Claiming: a worker takes the oldest QUEUED task of its workspace that
// matches its queues, types and resources, in one statement (FOR UPDATE
// SKIP LOCKED, so two workers or two replicas never take one task), which
// starts an attempt with a fresh lease. With nothing to take, the claim
// waits, woken when a task of the workspace is queued on any replica.
import { type Database, tasks, type TaskRow, type Tx } from "@modelreg/db";
import { TaskState } from "@modelreg/proto";
import { sql } from "drizzle-orm";
import { NotFoundError } from "../shared/errors.js";
import { rowsOf } from "../shared/raw-rows.js";
import type { TaskWakeups } from "../ports/task-wakeups.js";
import type { Scope } from "../shared/scope.js";
import { freeMemoryDescending, type GpuRecord, parseWorkerName, selectWorker, touchWorker, type WorkerRow, workerResourceName } from "../workers/index.js";
import { insertEvent, notifyEvents } from "./events-sql.js";
import { newLeaseToken } from "./lease.js";
import { EVENT_KIND } from "./types.js";

export interface ClaimInput {
  worker: string;
  waitSeconds: number;
  /** The worker's GPUs now; undefined keeps what it last reported. */
  gpus: GpuRecord[] | undefined;
}

export interface ClaimSettings {
  leaseMs: number;
  /** How often a waiting claim looks again without a wake-up (a NOTIFY lost to a reconnect). */
  recheckMs: number;
}

/** Claims a task for the worker, waiting up to waitSeconds; undefined when none came. */
export async function claimTask(
  db: Database,
  wakeups: TaskWakeups,
  settings: ClaimSettings,
  scope: Scope,
  input: ClaimInput,
  signal?: AbortSignal,
): Promise<{ task: TaskRow; worker: WorkerRow } | undefined> {
  const n = parseWorkerName("worker", input.worker);
  const known = await selectWorker(db, scope, n);
  if (!known) throw new NotFoundError("worker", input.worker, `worker ${input.worker} (call RegisterWorker first)`);
  const worker = (await touchWorker(db, known.id, input.gpus)) ?? known;
  const deadline = Date.now() + Math.max(0, Math.min(60, input.waitSeconds)) * 1000;
  for (;;) {
    // Listen before looking, so a task queued between the look and the wait still wakes this claim.
    let wake = () => {};
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const stop = wakeups.onQueued(worker.workspace, () => wake());
    try {
      const task = await db.transaction((tx) => claimOne(tx, worker, settings.leaseMs));
      if (task) return { task, worker };
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return undefined;
      await waitFor(woken, Math.min(left, settings.recheckMs), signal);
    } finally {
      stop();
    }
  }
}

function waitFor(woken: Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    void woken.then(done);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** Takes one matching task, starting its next attempt; undefined when none. */
async function claimOne(tx: Tx, worker: WorkerRow, leaseMs: number): Promise<TaskRow | undefined> {
  const gpus = worker.gpus as unknown as GpuRecord[];
  const free = JSON.stringify(freeMemoryDescending(gpus));
  const types = worker.types.length === 0 ? sql`true` : sql`t.type IN (${sql.join(worker.types.map((x) => sql`${x}`), sql`, `)})`;
  const queues = sql.join(worker.queues.map((q) => sql`${q}`), sql`, `);
  const picked = await tx.execute(sql`
    SELECT t.id FROM ${tasks} t
    WHERE t.workspace = ${worker.workspace} AND t.state = ${TaskState.QUEUED} AND t.queue IN (${queues}) AND ${types}
      AND t.req_gpu_count <= ${gpus.length}
      AND (t.req_gpu_count = 0 OR (${free}::jsonb ->> (t.req_gpu_count - 1))::bigint >= t.req_gpu_memory)
      AND t.req_cpu_count <= ${worker.cpuCount}
      AND ${JSON.stringify(worker.labels)}::jsonb @> t.req_labels
    ORDER BY t.seq LIMIT 1 FOR UPDATE SKIP LOCKED`);
  const id = rowsOf<{ id: string }>(picked)[0]?.id;
  if (!id) return undefined;
  const workerName = workerResourceName(worker.workspace, worker.workerId);
  const [row] = await tx
    .update(tasks)
    .set({
      state: TaskState.RUNNING,
      attempt: sql`${tasks.attempt} + 1`,
      worker: workerName,
      workerRowId: worker.id,
      leaseToken: newLeaseToken(id),
      leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})`,
      linesRecorded: 0,
      stopRequested: false,
      cancelRequested: false,
      startTime: sql`coalesce(${tasks.startTime}, now())`,
      endTime: null,
      lastSeq: sql`${tasks.lastSeq} + 1`,
      revision: sql`${tasks.revision} + 1`,
      updateTime: sql`now()`,
    })
    .where(sql`${tasks.id} = ${id}`)
    .returning();
  const task = row!;
  await insertEvent(tx, task.id, task.lastSeq, EVENT_KIND.state, {
    state: TaskState.RUNNING,
    previousState: TaskState.QUEUED,
    message: `claimed by ${workerName}`,
    attempt: task.attempt,
    worker: workerName,
  });
  await notifyEvents(tx, task.id, task.lastSeq);
  return task;
}
