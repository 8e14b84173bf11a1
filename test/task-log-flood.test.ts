// A task that logs without end keeps the server's memory flat, on both
// databases: the server keeps at most TASK_LOG_MAX_BYTES of a task's log
// (here its minimum, 1 MiB) and drops the oldest lines, so a worker that
// sends 200 MB of log lines leaves the server's resident memory (VmRSS of
// its process, /proc/<pid>/status) where it was, give or take a bound far
// below the volume sent. ListTaskLogs says how many lines were dropped, and
// its tail still reads the newest ones.
import { readFileSync } from "node:fs";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { createRegistryClient, type RegistryClient, type TaskContext, TaskState } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ServerProcess, startServer, tempDir } from "./support/server.js";
import { until } from "./support/until.js";

const CAP = 1 << 20;
const LINE_BYTES = 1000;
const FLOOD_BYTES = 200e6;
const LINES = FLOOD_BYTES / LINE_BYTES;
/** Lines per flush: about 1 MB, one or two ReportProgress calls. */
const CHUNK = 1000;
/**
 * Growth allowed once the flood is over: generous for the allocator and the
 * garbage collector, small beside the 200 MB sent. (During the flood the
 * server holds the garbage of recent reports until its collector runs: the
 * peak is printed, not judged.)
 */
const BOUND = 150e6;

/** Resident memory of a process, in bytes. */
function rss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

/** Line `i`: its number, padded to LINE_BYTES. */
const line = (i: number) => `flood line ${String(i).padStart(9, "0")} `.padEnd(LINE_BYTES, "x");

/** Logs `lines` lines, sent a chunk at a time; `each` is called after each chunk. */
async function logLines(ctx: TaskContext, lines: number, each: () => void): Promise<void> {
  for (let i = 0; i < lines; i += CHUNK) {
    for (let j = i; j < Math.min(lines, i + CHUNK); j++) ctx.log(line(j));
    await ctx.flush();
    each();
  }
}

describeEachDatabase("a task that logs without end", (backend) => {
  const dir = tempDir();
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  let server: ServerProcess;
  let client: RegistryClient;

  beforeAll(async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    server = await startServer({ databaseUrl: db?.url, dataDir: dir.path, env: { TASK_LOG_MAX_BYTES: String(CAP) } });
    client = createRegistryClient({ baseUrl: server.url });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    dir.remove();
  });

  it(`keeps the server's memory flat while a task sends ${FLOOD_BYTES / 1e6} MB of log lines, and keeps the newest`, async () => {
    const pid = server.child.pid!;
    const samples: number[] = [];
    const worker = client.runWorker({
      queues: ["flood"],
      workerId: "flooder",
      handler: (ctx) => logLines(ctx, ctx.task.name.endsWith("/warm-up") ? 4 * CHUNK : LINES, () => void samples.push(rss(pid))),
    });
    let before = 0;
    let after = 0;
    let name = "";
    try {
      // A first task past the cap warms up what the flood uses (reports, trimming) before the baseline is read.
      const warm = await client.submitTask({ type: "TRAIN", taskId: "warm-up", task: { queue: "flood" } });
      expect((await client.waitForTask(warm.name)).state).toBe(TaskState.SUCCEEDED);
      before = rss(pid);
      samples.length = 0;
      name = (await client.submitTask({ type: "TRAIN", taskId: "flood", task: { queue: "flood" } })).name;
      expect((await client.waitForTask(name)).state).toBe(TaskState.SUCCEEDED);
      // Garbage of the last reports may not be collected yet; memory that grew with the volume never comes back.
      await until(() => rss(pid) - before < BOUND, `the server's RSS back within ${BOUND / 1e6} MB of ${before / 1e6} MB (now ${rss(pid) / 1e6} MB)`);
      after = rss(pid);
    } finally {
      await worker.stop();
    }
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.log(`[${backend}] server RSS: ${mb(before)} before, ${mb(Math.max(...samples))} at most during, ${mb(after)} after ${mb(FLOOD_BYTES)} of log lines`);
    expect(samples).toHaveLength(LINES / CHUNK);
    expect(after - before).toBeLessThan(BOUND);

    // The oldest lines went; what is held is the newest, within the cap.
    const tail = await client.tasks.listTaskLogs({ name, tail: 3 });
    expect(tail.lines.map((l) => l.text)).toEqual([line(LINES - 3), line(LINES - 2), line(LINES - 1)]);
    const dropped = Number(tail.droppedLines);
    expect(dropped).toBeGreaterThan(LINES - CAP / LINE_BYTES - 1);
    expect(dropped).toBeLessThan(LINES);
    const oldest = await client.tasks.listTaskLogs({ name, pageSize: 1 });
    expect(oldest.lines.map((l) => l.text)).toEqual([line(dropped)]);
  }, 900_000);
});
