// The server process: configuration from the environment, migrations, then
// Connect + gRPC + gRPC-Web on one port until SIGTERM/SIGINT.
import { join } from "node:path";
import { openDatabase } from "@modelreg/db";
import { createApp } from "./app.js";
import { ConfigError, helpText, loadConfig } from "./config.js";
import { limitHeapGrowth } from "./heap-room.js";
import { announceAdminKey } from "./auth/admin-key-file.js";
import { keyMaterial } from "./auth/keys.js";
import { ensureServerAdminKey } from "./domain/keys/index.js";
import { ensureDefaultWorkspace } from "./domain/workspaces/index.js";
import { serve } from "./http/serve.js";
import { streamingBodies } from "./http/request-deadline.js";
import { loadSigningKeys } from "./auth/signing-keys.js";
import { GC_JOB } from "./jobs/gc.js";
import { schedulePeriodic } from "./jobs/periodic.js";
import { markBulkActivity } from "./storage/bulk-activity.js";
import { BLOB_STORE_SETTINGS, blobStoreFromEnv } from "./storage/config.js";
import { TLS_SETTINGS, tlsFromEnv } from "./http/tls-config.js";
import { createLogger } from "./logger.js";
import { serveMetrics } from "./metrics/metrics-server.js";
import { exitOnStartupFailure, type StartupContext, startupFailureMessage } from "./startup-failure.js";

/** How long the shutdown steps after the drain (jobs, listeners, store, database) may take together before the process exits anyway. */
const SHUTDOWN_STEPS_MS = 15_000;

/** What a startup failure names in its message (startup-failure.ts). */
const startup: StartupContext = {};

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(`${helpText([...BLOB_STORE_SETTINGS, ...TLS_SETTINGS])}\n`);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  let store: Awaited<ReturnType<typeof blobStoreFromEnv>>;
  let tls: ReturnType<typeof tlsFromEnv>;
  try {
    config = loadConfig(process.env);
    tls = tlsFromEnv(process.env);
    store = await blobStoreFromEnv(process.env, config.dataDir);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    exitOnStartupFailure(`${e.message} (run with --help for every setting)`, undefined, 2);
  }
  Object.assign(startup, { databaseUrl: config.databaseUrl, dataDir: config.dataDir, port: config.port, host: config.host, metricsPort: config.metricsPort });
  // The heap grows by half of what the last full collection kept, and a
  // small one by at least 32 MiB while no blob is read or written and no
  // streaming call is open (heap-room.ts).
  const heapRoom = limitHeapGrowth(config.heapGrowingPercent);
  store = markBulkActivity(store, heapRoom.bulkActivity);
  const logger = createLogger(config.logLevel);
  // A signal during start-up (opening the database, migrating) is kept, and
  // acted on once the server is up: a clean stop and exit 0, never node's
  // default of dying mid-start.
  let signalled: string | undefined;
  let onSignal = (signal: string) => {
    if (!signalled) logger.info({ signal }, "shutting down once started");
    signalled ??= signal;
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  const database = await openConfiguredDatabase(config, logger);
  await database.migrate();
  await ensureDefaultWorkspace(database.db);
  if (!config.authEnabled)
    logger.warn(
      "AUTH=off: EVERY CALL IS ALLOWED WITHOUT A KEY, AS A SERVER-WIDE ADMIN. Use this on a laptop only; anyone who can reach the port can read, change and delete every model.",
    );
  else if (!config.adminToken) await announceAdminKey(await ensureServerAdminKey(database.db, keyMaterial), config.dataDir, logger);

  const draining = new AbortController();
  const app = createApp({
    db: database.db,
    logger,
    maxMessageBytes: config.maxMessageBytes,
    database: database.kind,
    auth: { enabled: config.authEnabled, adminToken: config.adminToken, ratePerSecond: config.rateLimitPerKey || undefined, burst: config.rateLimitBurst, failuresPerPeer: config.authFailuresPerPeer },
    store,
    signingKeys: await loadSigningKeys(database.db, config.urlSigningKey),
    publicUrl: config.publicUrl,
    corsOrigins: config.corsOrigins,
    uploadsPerKey: config.uploadsPerKey,
    maxChunkBytes: config.maxChunkBytes,
    jobs: { concurrency: config.jobConcurrency, leaseMs: config.jobLeaseSeconds * 1000 },
    gc: { graceMs: config.gcGraceSeconds * 1000 },
    listen: database.listen,
    tasks: config.tasks,
    draining: draining.signal,
    databaseStats: database.stats,
    streamActivity: heapRoom.bulkActivity,
  });
  void app.md5.sweep().catch((err: unknown) => logger.warn({ err }, "could not look for blobs without an md5"));
  // Garbage collection is a job: due every GC_INTERVAL_SECONDS across all replicas, run by one.
  const gc = schedulePeriodic({ db: database.db, engine: app.jobs, logger, kind: GC_JOB, everyMs: config.gcIntervalSeconds * 1000 });
  const server = await serve(app.handler, {
    port: config.port,
    host: config.host,
    limits: config.transport,
    isStreamingBody: streamingBodies(app.routes),
    logger,
    tls,
  });
  // Prometheus metrics on a listener of their own (METRICS_PORT), plain HTTP, no key.
  const metrics = config.metricsPort !== undefined ? await serveMetrics(app.metrics, { port: config.metricsPort, host: config.metricsHost, logger }) : undefined;
  app.jobs.start();
  app.taskLeases.start();
  app.readiness.start();
  logger.info({ url: server.url, port: server.port, metrics: metrics?.url, database: database.kind, blobStore: store.kind }, `modelreg listening on ${server.url}`);
  // Written now, not with the next batch of lines: scripts and supervisors wait for it.
  logger.flush();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down: finishing in-flight calls");
    // Every step below is bounded; should one still hang, the process exits
    // anyway (code 1) and says which, instead of outliving its SIGTERM.
    let step = "closing the listener";
    setTimeout(() => {
      logger.error({ step, afterMs: config.shutdownGraceMs + SHUTDOWN_STEPS_MS }, `shutdown did not finish: still ${step}; exiting anyway`);
      process.exit(1);
    }, config.shutdownGraceMs + SHUTDOWN_STEPS_MS).unref();
    app.health.shutdown();
    // Waiting claims answer and watch streams end now, rather than hold the drain.
    draining.abort();
    // Running jobs go back to the queue at once (no new ones are taken),
    // for another replica or the next start, while the calls drain.
    const handedBack = Promise.all([gc.stop(), app.jobs.stop()]);
    await server.close(config.shutdownGraceMs);
    for (const [what, close] of [
      ["handing running jobs back", () => handedBack],
      ["closing the metrics listener", () => metrics?.close()],
      ["stopping the task leases", () => app.taskLeases.stop()],
      ["stopping the md5 sweep", () => app.md5.stop()],
      ["stopping the readiness probe", () => app.readiness.stop()],
      ["stopping the task notifications", () => app.wakeups.close()],
      ["closing the blob store", () => store.close()],
      ["closing the database", () => database.close()],
    ] as const) {
      step = what;
      await close();
    }
    logger.info("stopped");
    process.exit(0);
  };
  onSignal = (signal) => void stop(signal);
  if (signalled) void stop(signalled);
}

/** PostgreSQL when DATABASE_URL is set, else the embedded database in DATA_DIR (with a warning of what it does not promise). */
async function openConfiguredDatabase(config: ReturnType<typeof loadConfig>, logger: ReturnType<typeof createLogger>) {
  const database = config.databaseUrl
    ? await openDatabase({ url: config.databaseUrl, poolSize: config.databasePoolSize, connectTimeoutMs: config.databaseConnectTimeoutMs, acquireTimeoutMs: config.databaseAcquireTimeoutMs,
        preparedStatements: config.databasePreparedStatements,
        pipeline: config.databasePipeline,
      })
    : await openDatabase({ dataDir: join(config.dataDir, "pg") });
  if (database.kind === "pglite")
    logger.warn(
      { dataDir: join(config.dataDir, "pg") },
      "using the embedded database (PGlite): fine for trying modelreg and for one machine, but it does not fsync, so an operating-system crash or power loss can lose recent commits; set DATABASE_URL to a PostgreSQL server for production",
    );
  return database;
}

main().catch((err: unknown) => exitOnStartupFailure(startupFailureMessage(err, startup), err, 1));
