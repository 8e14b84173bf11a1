// WatchTask across two server processes on one PostgreSQL database: a
// watcher on one replica sees, in order and as it happens, what is done
// through the other (state changes) and what a worker's report commits
// (log lines, metric points written as the worker side writes them), woken
// by LISTEN/NOTIFY; and a reconnect with after_seq to the other replica
// picks up with no gap and no repeat.
import { createClient, type Client } from "@connectrpc/connect";
import { createEmptyPostgres } from "@modelreg/db/testing";
import { createTransport, type TaskEvent, TaskService, TaskState, TaskType, type WatchTaskResponse } from "@modelreg/sdk";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type ServerProcess } from "./support/server.js";

const skip = process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)";

/** The next event of a watch, keep-alives skipped. */
async function nextEvent(s: AsyncIterator<WatchTaskResponse>): Promise<TaskEvent> {
  for (;;) {
    const r = await s.next();
    if (r.done) throw new Error("the watch ended");
    if (r.value.kind.case === "event") return r.value.kind.value;
  }
}

describe.skipIf(!process.env.DATABASE_URL)(`task watch on two replicas${skip}`, () => {
  let db: Awaited<ReturnType<typeof createEmptyPostgres>>;
  let sql: postgres.Sql;
  const servers: ServerProcess[] = [];
  let a: Client<typeof TaskService>;
  let b: Client<typeof TaskService>;

  beforeAll(async () => {
    db = await createEmptyPostgres();
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    servers.push(await startServer({ databaseUrl: db.url }));
    servers.push(await startServer({ databaseUrl: db.url }));
    [a, b] = servers.map((s) => createClient(TaskService, createTransport({ baseUrl: s.url }))) as [typeof a, typeof b];
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.stop("SIGKILL");
    await sql?.end();
    await db?.drop();
  });

  /** A worker's report through neither server: its rows and sequence numbers under the task's row lock, then the NOTIFY. */
  async function report(taskId: string, lines: string[]): Promise<void> {
    await sql.begin(async (tx) => {
      const [t] = await tx`UPDATE tasks SET last_seq = last_seq + ${lines.length + 1} WHERE task_id = ${taskId} RETURNING id, last_seq`;
      const first = Number(t!.last_seq) - lines.length;
      await tx`INSERT INTO task_metrics (task_id, name, step, value, epoch, seq, time) VALUES (${t!.id}, 'loss', ${first}, 0.5, 1, ${first}, now())`;
      for (const [i, text] of lines.entries())
        await tx`INSERT INTO task_logs (task_id, seq, attempt, text, stream, time) VALUES (${t!.id}, ${first + 1 + i}, 1, ${text}, 'stdout', now())`;
      await tx`SELECT pg_notify('modelreg_tasks', ${`e ${t!.id} ${t!.last_seq}`})`;
    });
  }

  it("a watcher on one replica sees what happens through the other, in order, and resumes on it with after_seq", async () => {
    const { task } = await a.createTask({ parent: "workspaces/default", taskId: "across", task: { type: TaskType.TRAIN } });
    const leaving = new AbortController();
    const onB = b.watchTask({ name: task!.name, follow: true }, { signal: leaving.signal })[Symbol.asyncIterator]();
    expect((await onB.next()).value?.kind.case).toBe("task");
    expect((await nextEvent(onB)).seq).toBe(1n);
    await a.stopTask({ name: task!.name });
    expect(await nextEvent(onB)).toMatchObject({ seq: 2n, kind: { case: "stateChange", value: { state: TaskState.STOPPED } } });
    await a.resumeTask({ name: task!.name });
    expect(await nextEvent(onB)).toMatchObject({ seq: 3n, kind: { case: "stateChange", value: { state: TaskState.QUEUED } } });
    await report("across", ["epoch 1", "epoch 2"]);
    expect(await nextEvent(onB)).toMatchObject({ seq: 4n, kind: { case: "metrics" } });
    expect(await nextEvent(onB)).toMatchObject({ seq: 6n, kind: { case: "logs", value: { lines: [{ text: "epoch 1" }, { text: "epoch 2" }] } } });
    leaving.abort();
    // What happens while nobody watches, then a reconnect to the other replica.
    await report("across", ["epoch 3"]);
    await b.cancelTask({ name: task!.name });
    const onA = a.watchTask({ name: task!.name, afterSeq: 6n })[Symbol.asyncIterator]();
    expect((await onA.next()).value?.kind.case).toBe("task");
    const rest: TaskEvent[] = [];
    for (let r = await onA.next(); !r.done; r = await onA.next()) if (r.value.kind.case === "event") rest.push(r.value.kind.value);
    expect(rest.map((e) => [e.seq, e.kind.case])).toEqual([
      [7n, "metrics"],
      [8n, "logs"],
      [9n, "stateChange"],
    ]);
    expect(rest[2]!.kind.value).toMatchObject({ state: TaskState.CANCELLED });
  });
});
