// Periodic jobs on both databases: two processes' schedulers on one
// database queue one run per interval between them, never two at once.
import { jobs } from "@modelreg/db";
import { createTestDatabase, describeEachDatabase, type TestDatabase } from "@modelreg/db/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { createJobEngine, JOB_STATE, type JobEngine } from "./engine.js";
import { queueIfDue, schedulePeriodic } from "./periodic.js";

describeEachDatabase("periodic jobs", (kind) => {
  let t: TestDatabase;
  const engines: JobEngine[] = [];
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await t?.close();
  });

  it("queues a run only when none is live and the last is older than the interval", async () => {
    const engine = createJobEngine({ db: t.db, logger: createLogger("silent"), kinds: { once: { run: async () => {} } }, pollMs: 20 });
    engines.push(engine);
    expect(await queueIfDue(t.db, engine, "once", 60_000)).toBe(true);
    // Queued (not run: the engine is not started), and queued just now: not again.
    expect(await queueIfDue(t.db, engine, "once", 60_000)).toBe(false);
    expect(await queueIfDue(t.db, engine, "once", 1)).toBe(false);
    engine.start();
    await engine.idle();
    await new Promise((r) => setTimeout(r, 20));
    // Done, and older than 1 ms: due again.
    expect(await queueIfDue(t.db, engine, "once", 1)).toBe(true);
  });

  it("runs once per interval across two processes, never two at once", async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const kinds = {
      sweep: {
        run: async () => {
          running += 1;
          runs += 1;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 30));
          running -= 1;
        },
      },
    };
    const logger = createLogger("silent");
    const stops: (() => Promise<void>)[] = [];
    const pair: JobEngine[] = [];
    for (const owner of ["a", "b"]) {
      const engine = createJobEngine({ db: t.db, logger, kinds, pollMs: 20, owner });
      engines.push(engine);
      pair.push(engine);
      engine.start();
      stops.push(schedulePeriodic({ db: t.db, engine, logger, kind: "sweep", everyMs: 300, tickMs: 25 }).stop);
    }
    // Wait for a condition, not a time: three runs, however slow the machine.
    await waitFor(() => runs >= 3);
    await Promise.all(stops.map((stop) => stop()));
    // Let what was queued finish, so every row is final when it is read.
    await Promise.all(pair.map((e) => e.idle()));
    expect(most).toBe(1);
    const rows = await t.db.select().from(jobs).where(eq(jobs.kind, "sweep"));
    expect(rows.map((r) => r.state)).toEqual(rows.map(() => JOB_STATE.SUCCEEDED));
    expect(rows.length).toBe(runs);
    // Once per interval: consecutive runs were queued at least 300 ms apart (by the database's clock, which decided).
    const queued = rows.map((r) => r.createTime.getTime()).sort((a, b) => a - b);
    for (let i = 1; i < queued.length; i++) expect(queued[i]! - queued[i - 1]!).toBeGreaterThanOrEqual(300);
  });
});

/** Resolves when `done()` holds; checks every 10 ms. The suite's timeout catches a hang. */
async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 10));
}
