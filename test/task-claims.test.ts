// Claims on two server processes that share one PostgreSQL database: eight
// workers, half on each replica, claim and finish 60 tasks at once; every
// task runs exactly once (one RUNNING transition, attempt 1) and no two
// workers ever hold one task. A claim waiting on one replica gets a task
// created through the other.
import { createClient, type Client } from "@connectrpc/connect";
import { createEmptyPostgres } from "@modelreg/db/testing";
import { createTransport, TaskService, TaskState, TaskType, TaskWorkerService } from "@modelreg/sdk";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type ServerProcess } from "./support/server.js";

const skip = process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)";
const TASKS = 60;
const WORKERS = 8;

describe.skipIf(!process.env.DATABASE_URL)(`task claims on two replicas${skip}`, () => {
  let db: Awaited<ReturnType<typeof createEmptyPostgres>>;
  let sql: postgres.Sql;
  const servers: ServerProcess[] = [];
  const taskClients: Client<typeof TaskService>[] = [];
  const workerClients: Client<typeof TaskWorkerService>[] = [];

  beforeAll(async () => {
    db = await createEmptyPostgres();
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    for (let i = 0; i < 2; i++) {
      const s = await startServer({ databaseUrl: db.url });
      servers.push(s);
      const transport = createTransport({ baseUrl: s.url });
      taskClients.push(createClient(TaskService, transport));
      workerClients.push(createClient(TaskWorkerService, transport));
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.stop("SIGKILL");
    await sql?.end();
    await db?.drop();
  });

  it(`runs ${TASKS} tasks with ${WORKERS} workers on both replicas, each task once and by one worker at a time`, async () => {
    const names: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const { task } = await taskClients[i % 2]!.createTask({ parent: "workspaces/default", task: { type: TaskType.TRAIN, queue: "race" } });
      names.push(task!.name);
    }
    const held = new Set<string>();
    const overlaps: string[] = [];
    const runs: string[] = [];
    const work = async (w: number) => {
      const client = workerClients[w % 2]!;
      const { worker } = await client.registerWorker({ parent: "workspaces/default", workerId: `racer-${w}`, worker: { queues: ["race"] } });
      for (;;) {
        const c = await client.claimTask({ worker: worker!.name, waitSeconds: 0 });
        if (!c.task) return;
        if (held.has(c.task.name)) overlaps.push(c.task.name);
        held.add(c.task.name);
        runs.push(c.task.name);
        await client.reportProgress({ leaseToken: c.leaseToken, logs: [{ text: `run by racer-${w}` }], firstLineNumber: 0n });
        held.delete(c.task.name);
        await client.completeTask({ leaseToken: c.leaseToken, state: TaskState.SUCCEEDED });
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => work(w)));
    expect(overlaps).toEqual([]);
    expect(runs.sort()).toEqual([...names].sort());
    const rows = await sql<{ state: number; attempt: number; runs: number }[]>`
      SELECT t.state, t.attempt, (SELECT count(*)::int FROM task_events e WHERE e.task_id = t.id AND e.kind = 1 AND (e.payload->>'state')::int = ${TaskState.RUNNING}) AS runs
      FROM tasks t WHERE t.queue = 'race'`;
    expect(rows).toHaveLength(TASKS);
    for (const r of rows) expect([r.state, r.attempt, r.runs]).toEqual([TaskState.SUCCEEDED, 1, 1]);
  }, 120_000);

  it("hands a claim waiting on one replica a task created through the other", async () => {
    const a = workerClients[0]!;
    const { worker } = await a.registerWorker({ parent: "workspaces/default", workerId: "waiter", worker: { queues: ["wake"] } });
    const waiting = a.claimTask({ worker: worker!.name, waitSeconds: 30 });
    const { task } = await taskClients[1]!.createTask({ parent: "workspaces/default", task: { type: TaskType.TRAIN, queue: "wake" } });
    const claimed = await waiting;
    expect(claimed.task?.name).toBe(task!.name);
  }, 60_000);
});
