// The database as this process uses it: its pool (PostgreSQL's pool gate:
// connections in use and calls waiting; PGlite has one connection and no
// pool to report) and whether it is ready (reachable and migrated), read
// at scrape time without a query.
import type { DatabaseStats } from "@modelreg/db";
import { Gauge, type Registry } from "prom-client";

export function createDatabaseMetrics(registry: Registry, deps: { stats: () => DatabaseStats; ready: () => boolean }): void {
  new Gauge({
    name: "modelreg_db_up",
    help: "1 when the database is reachable and migrated (what /readyz says), else 0",
    registers: [registry],
    collect() {
      this.set(deps.ready() ? 1 : 0);
    },
  });
  new Gauge({
    name: "modelreg_db_pool_size",
    help: "Connections the database pool may open (DATABASE_POOL_SIZE; 1 for the embedded database)",
    registers: [registry],
    collect() {
      this.set(deps.stats().poolSize);
    },
  });
  // The embedded database has no pool gate: nothing in use or waiting to report.
  if (deps.stats().inUse === undefined) return;
  const pooled = (name: string, help: string, value: (s: DatabaseStats) => number | undefined) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(deps.stats()) ?? 0);
      },
    });
  pooled("modelreg_db_pool_in_use", "Calls holding a PostgreSQL connection now (absent on the embedded database)", (s) => s.inUse);
  pooled("modelreg_db_pool_waiting", "Calls waiting for a free PostgreSQL connection now (absent on the embedded database)", (s) => s.waiting);
}
