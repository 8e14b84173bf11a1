// The server's Prometheus metrics, in a registry of its own per app (never
// prom-client's global one: tests run several servers in one process).
// What feeds them: the access log's interceptor (RPCs), the byte routes
// (bytes and requests), the database (jobs at scrape time, the pool's use
// without a query) and prom-client's process metrics. metrics-server.ts
// serves them on METRICS_PORT.
import type { Database, DatabaseStats } from "@modelreg/db";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { ByteRouteObserver } from "../http/file-routes.js";
import type { CallObserver } from "../interceptors/access-log.js";
import type { Logger } from "../logger.js";
import { createByteMetrics } from "./byte-metrics.js";
import { createDatabaseMetrics } from "./database-metrics.js";
import { createJobMetrics } from "./job-metrics.js";
import { createRpcMetrics } from "./rpc-metrics.js";

export interface MetricsDeps {
  db: Database;
  logger: Logger;
  /** The job kinds this server runs (listed with 0 in every state). */
  jobKinds: string[];
  /** The pool's use now (DatabaseHandle.stats); default: nothing to report. */
  databaseStats?: () => DatabaseStats;
  /** Whether the database is ready now (readiness). */
  ready: () => boolean;
}

export interface Metrics {
  readonly registry: Registry;
  readonly calls: CallObserver;
  readonly byteRoutes: ByteRouteObserver;
  /** Adds prom-client's process and Node.js metrics (CPU, memory, heap, event loop, GC); once, when they are served. */
  collectProcessMetrics(): void;
}

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  const calls = createRpcMetrics(registry);
  const byteRoutes = createByteMetrics(registry);
  createJobMetrics(registry, { db: deps.db, logger: deps.logger, kinds: deps.jobKinds });
  if (deps.databaseStats) createDatabaseMetrics(registry, { stats: deps.databaseStats, ready: deps.ready });
  let processMetrics = false;
  return {
    registry,
    calls,
    byteRoutes,
    collectProcessMetrics() {
      if (processMetrics) return;
      processMetrics = true;
      collectDefaultMetrics({ register: registry });
    },
  };
}
