// Jobs of the engine by kind and state, counted in the database at scrape
// time, since any replica may have queued or run them. The count is one
// GROUP BY over a table that garbage collection keeps to a week of finished
// jobs; it runs at most once per MAX_AGE_MS whatever the scrape rate, one
// at a time, and a scrape does not wait for it longer than WAIT_MS (it then
// shows the last counts).
import type { Database } from "@modelreg/db";
import { Gauge, type Registry } from "prom-client";
import { countJobs, JOB_STATE } from "../jobs/job-sql.js";
import type { Logger } from "../logger.js";

const MAX_AGE_MS = 5_000;
const WAIT_MS = 2_000;

const STATE_NAMES = Object.fromEntries(Object.entries(JOB_STATE).map(([name, n]) => [n, name.toLowerCase()])) as Record<number, string>;

export function createJobMetrics(registry: Registry, deps: { db: Database; logger: Logger; kinds: string[] }): void {
  let counts: { kind: string; state: number; count: number }[] = [];
  let countedAt = Number.NEGATIVE_INFINITY;
  let counting: Promise<void> | undefined;
  const refresh = () => {
    counting ??= countJobs(deps.db)
      .then((rows) => {
        counts = rows;
        countedAt = performance.now();
      })
      .catch((err: unknown) => deps.logger.debug({ err }, "metrics: could not count jobs"))
      .finally(() => (counting = undefined));
    return counting;
  };
  new Gauge({
    name: "modelreg_jobs",
    help: "Background jobs (exports, garbage collection) in the database by kind and state, across all replicas; counted at most every 5 s",
    labelNames: ["kind", "state"],
    registers: [registry],
    async collect() {
      if (performance.now() - countedAt > MAX_AGE_MS) await Promise.race([refresh(), new Promise((r) => setTimeout(r, WAIT_MS).unref())]);
      this.reset();
      // Every state of every kind this server runs, 0 when there are none.
      for (const kind of deps.kinds) for (const state of Object.values(STATE_NAMES)) this.set({ kind, state }, 0);
      for (const r of counts) this.set({ kind: r.kind, state: STATE_NAMES[r.state] ?? String(r.state) }, r.count);
    },
  });
}
