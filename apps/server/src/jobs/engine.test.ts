// The job engine on both databases: each job runs once across processes
// sharing the database, an expired lease is taken over, failures back off
// and give up with the last error kept, cancellation reaches a running job,
// and a job whose process is gone is finished by the others: cancelled when
// that was asked for, failed when its last try died.
import { jobs } from "@modelreg/db";
import { createTestDatabase, describeEachDatabase, type TestDatabase } from "@modelreg/db/testing";
import { eq, type SQL, sql } from "drizzle-orm";
import type { PgDialect } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createLogger } from "../logger.js";
import { createJobEngine, JOB_STATE, type JobEngine, type JobKind, PermanentJobError } from "./engine.js";
import { ABANDONED_ERROR, claimJob } from "./job-sql.js";

describeEachDatabase("job engine", (kind) => {
  let t: TestDatabase;
  const engines: JobEngine[] = [];
  const logger = createLogger("silent");
  const engine = (kinds: Record<string, JobKind>, o: { leaseMs?: number; backoffMs?: number; owner?: string } = {}) => {
    const e = createJobEngine({ db: t.db, logger, kinds, pollMs: 20, leaseMs: o.leaseMs ?? 600, backoffMs: o.backoffMs ?? 10, owner: o.owner });
    engines.push(e);
    return e;
  };
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await t?.close();
  });
  const row = async (id: string) => (await t.db.select().from(jobs).where(eq(jobs.id, id)))[0]!;
  /** Waits until the job is neither queued nor running (the bound only catches a hang); answers its row. */
  const settled = async (id: string) => {
    await vi.waitFor(async () => expect([JOB_STATE.QUEUED, JOB_STATE.RUNNING]).not.toContain((await row(id)).state), { timeout: 20_000, interval: 20 });
    return row(id);
  };

  it("runs a job enqueued while a poll is looking for work at once, not at the next poll", async () => {
    // The poll's claim has found nothing and is held there; the job is
    // enqueued (and the engine poked) meanwhile. With a poll an hour
    // apart, only the poke can start the job.
    let claimSeen!: () => void;
    const seen = new Promise<void>((r) => (claimSeen = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let holdNextClaim = true;
    const isClaim = (q: SQL) => (t.db as unknown as { dialect: PgDialect }).dialect.sqlToQuery(q).sql.includes("attempts = attempts + 1");
    const db = new Proxy(t.db, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== "execute") return value;
        return (q: SQL) => {
          const result = (value as (q: SQL) => Promise<unknown>).call(target, q);
          if (!holdNextClaim || !isClaim(q)) return result;
          holdNextClaim = false;
          return result.then(async (r) => {
            claimSeen();
            await released;
            return r;
          });
        };
      },
    });
    const runs: string[] = [];
    const e = createJobEngine({ db, logger, kinds: { late: { run: async () => void runs.push("late") } }, pollMs: 3_600_000, owner: "late" });
    engines.push(e);
    e.start();
    await seen;
    const id = await e.enqueue("late", {});
    release();
    expect((await settled(id)).state).toBe(JOB_STATE.SUCCEEDED);
    expect(runs).toEqual(["late"]);
    await e.stop();
  });

  it("runs each of 20 jobs exactly once across two engines on one database", async () => {
    const runs: string[] = [];
    const kinds = { count: { run: async (p: Record<string, unknown>) => void runs.push(p.n as string) } };
    const a = engine(kinds, { owner: "a" });
    const b = engine(kinds, { owner: "b" });
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => a.enqueue("count", { n: `job-${i}` })));
    a.start();
    b.start();
    await a.idle();
    await b.idle();
    expect(runs.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `job-${i}`).sort());
    for (const id of ids) expect((await row(id)).state).toBe(JOB_STATE.SUCCEEDED);
    await a.stop();
    await b.stop();
  });

  it("takes over a job whose process died when its lease runs out", async () => {
    const runs: number[] = [];
    const survivor = engine({ rescue: { run: async (_p, ctx) => void runs.push(ctx.attempt) } });
    const id = await survivor.enqueue("rescue", {});
    // A process claimed it and died: running, leased to nobody alive, lease over.
    await t.db.update(jobs).set({ state: JOB_STATE.RUNNING, attempts: 1, leaseOwner: "dead", leaseUntil: sql`now() - interval '1 second'` }).where(eq(jobs.id, id));
    survivor.start();
    await survivor.idle();
    expect(runs).toEqual([2]);
    expect(await row(id)).toMatchObject({ state: JOB_STATE.SUCCEEDED, attempts: 2, leaseOwner: "" });
    await survivor.stop();
  });

  it("retries with back-off, then fails for good with the last error; a permanent error is not retried", async () => {
    const failed: string[] = [];
    let tries = 0;
    const e = engine({
      flaky: {
        run: async (_p, ctx) => {
          tries++;
          throw new Error(`broken on try ${ctx.attempt}`);
        },
        onFailed: async (_p, error) => void failed.push(error),
      },
      doomed: {
        run: async () => {
          throw new PermanentJobError("the version is gone");
        },
        onFailed: async (_p, error) => void failed.push(error),
      },
    });
    const flaky = await e.enqueue("flaky", {}, { maxAttempts: 3 });
    const doomed = await e.enqueue("doomed", {});
    e.start();
    await e.idle();
    expect(tries).toBe(3);
    expect(await row(flaky)).toMatchObject({ state: JOB_STATE.FAILED, attempts: 3, lastError: "broken on try 3" });
    expect(await row(doomed)).toMatchObject({ state: JOB_STATE.FAILED, attempts: 1, lastError: "the version is gone" });
    expect(failed.sort()).toEqual(["broken on try 3", "the version is gone"]);
    await e.stop();
  });

  it("cancels a queued job at once and a running one within a lease renewal", async () => {
    const cancelled: string[] = [];
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const e = engine(
      {
        slow: {
          run: (_p, ctx) =>
            new Promise<void>((_, reject) => {
              started();
              ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
            }),
          onCancelled: async (p) => void cancelled.push(p.which as string),
        },
      },
      { leaseMs: 300 },
    );
    const queued = await e.enqueue("slow", { which: "queued" });
    await e.cancel(queued);
    expect((await row(queued)).state).toBe(JOB_STATE.CANCELLED);
    const id = await e.enqueue("slow", { which: "running" });
    e.start();
    await running;
    // The running handler hears of it at a lease renewal and ends (it never would on its own).
    await e.cancel(id);
    await e.idle();
    expect(await row(id)).toMatchObject({ state: JOB_STATE.CANCELLED });
    expect(await row(queued)).toMatchObject({ state: JOB_STATE.CANCELLED, attempts: 0 });
    expect(cancelled.sort()).toEqual(["queued", "running"]);
    await e.stop();
  });

  it("cancels a job whose process died holding it, once its lease is over, without running it again", async () => {
    const ran: number[] = [];
    const cancelled: string[] = [];
    const kinds: Record<string, JobKind> = {
      orphan: { run: async (_p, ctx) => void ran.push(ctx.attempt), onCancelled: async (p) => void cancelled.push(p.which as string) },
    };
    // Two survivors look for it at once; one ends it.
    const survivors = [engine(kinds, { owner: "a" }), engine(kinds, { owner: "b" })];
    const id = await survivors[0]!.enqueue("orphan", { which: "orphan" });
    // A process claimed it (with the engine's own statement) and died: nobody will renew its lease.
    expect((await claimJob(t.db, { owner: "dead", leaseMs: 1 }, ["orphan"]))?.id).toBe(id);
    await survivors[0]!.cancel(id);
    for (const e of survivors) e.start();
    expect(await settled(id)).toMatchObject({ state: JOB_STATE.CANCELLED, attempts: 1, leaseOwner: "", leaseUntil: null, lastError: "cancelled" });
    await vi.waitFor(() => expect(cancelled).toEqual(["orphan"]), { timeout: 20_000, interval: 20 });
    await Promise.all(survivors.map((e) => e.stop()));
    expect(ran).toEqual([]);
    expect(cancelled).toEqual(["orphan"]);
  });

  it("cancels a job its engine handed back on stopping before that engine heard of the cancellation", async () => {
    const ran: number[] = [];
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const kinds: Record<string, JobKind> = {
      handback: {
        run: (_p, ctx) =>
          new Promise<void>((_, reject) => {
            ran.push(ctx.attempt);
            started();
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
          }),
      },
    };
    // Its first lease renewal is past the test's timeout, so it stops before it reads the cancellation.
    const first = engine(kinds, { leaseMs: 600_000 });
    const id = await first.enqueue("handback", {});
    first.start();
    await running;
    await first.cancel(id);
    await first.stop();
    expect(await row(id)).toMatchObject({ state: JOB_STATE.QUEUED, cancelRequested: true });
    const second = engine(kinds);
    second.start();
    expect(await settled(id)).toMatchObject({ state: JOB_STATE.CANCELLED, leaseOwner: "" });
    await second.stop();
    expect(ran).toEqual([1]);
  });

  it("hands a running job back when its engine stops: another runs it at once, that try not counted", async () => {
    const attempts: number[] = [];
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const kinds: Record<string, JobKind> = {
      handover: {
        run: (_p, ctx) =>
          new Promise<void>((resolve, reject) => {
            attempts.push(ctx.attempt);
            if (attempts.length > 1) return resolve();
            started();
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
          }),
      },
    };
    // Leases far beyond the test's timeout: only a hand-back lets the second engine take the job.
    const first = engine(kinds, { leaseMs: 600_000 });
    const id = await first.enqueue("handover", {});
    first.start();
    await running;
    await first.stop(); // what SIGTERM does (main.ts)
    expect(await row(id)).toMatchObject({ state: JOB_STATE.QUEUED, attempts: 0, leaseOwner: "", leaseUntil: null });
    const second = engine(kinds, { leaseMs: 600_000 });
    second.start();
    expect(await settled(id)).toMatchObject({ state: JOB_STATE.SUCCEEDED, attempts: 1 });
    await second.stop();
    expect(attempts).toEqual([1, 1]);
  });

  it("fails a job whose process died on its last try instead of running it once more", async () => {
    const ran: number[] = [];
    const failed: string[] = [];
    const survivor = engine({ fragile: { run: async (_p, ctx) => void ran.push(ctx.attempt), onFailed: async (_p, error) => void failed.push(error) } });
    const id = await survivor.enqueue("fragile", {}, { maxAttempts: 2 });
    // Its second and last try was claimed by a process that died.
    await t.db.update(jobs).set({ state: JOB_STATE.RUNNING, attempts: 2, leaseOwner: "dead", leaseUntil: sql`now() - interval '1 second'` }).where(eq(jobs.id, id));
    survivor.start();
    const done = await settled(id);
    expect(done).toMatchObject({ state: JOB_STATE.FAILED, attempts: 2, leaseOwner: "", lastError: ABANDONED_ERROR });
    await vi.waitFor(() => expect(failed).toEqual([ABANDONED_ERROR]), { timeout: 20_000, interval: 20 });
    await survivor.stop();
    expect(ran).toEqual([]);
  });
});
