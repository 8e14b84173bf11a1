// createApp(): every service of the server, wired over one database, with
// the interceptor order written down in one place.
import { type ConnectRouter, createContextValues, type Interceptor } from "@connectrpc/connect";
import type { Database, DatabaseHandle, DatabaseStats } from "@modelreg/db";
import { ExportService, FileService, ModelService, TaskService, TaskWorkerService, VersionService, WorkspaceService } from "@modelreg/proto";
import { createAuthLimits, failureBudget } from "./auth/auth-limits.js";
import { type Authenticator, createAuthenticator } from "./auth/authenticator.js";
import { keyMaterial } from "./auth/keys.js";
import { createConcurrencyLimiter, createRateLimiter } from "./auth/rate-limit.js";
import { createUrlSigner, type SigningKey } from "./auth/signed-urls.js";
import { createFilesDomain, createTaskContent, createUploadSessionsDomain } from "./domain/files/index.js";
import { createTaskRuns, createTasksDomain } from "./domain/tasks/index.js";
import { createWorkersDomain } from "./domain/workers/index.js";
import { createLeaseSweeper, type LeaseSweeper } from "./jobs/task-leases.js";
import { createTaskWorkerService } from "./services/task-worker-service.js";
import { createTaskWakeups, type TaskWakeupsService } from "./notify/task-wakeups.js";
import { createTaskService } from "./services/task-service.js";
import { RPC_COMPRESSION } from "./http/compression.js";
import { type CorsOrigins, withCors } from "./http/cors.js";
import { createFileRoutes } from "./http/file-routes.js";
import { rpcAdapter } from "./http/rpc-adapter.js";
import { createFileUrls, createSignedUrlCheck, type FileUrls } from "./http/file-urls.js";
import { peerAddressKey } from "./auth/principal.js";
import { createExportRuns, createExportsDomain, EXPORT_JOB } from "./domain/exports/index.js";
import { createJobEngine, type JobEngine, type JobKind } from "./jobs/engine.js";
import { createExportJob } from "./jobs/export-job.js";
import { GC_JOB, gcJob } from "./jobs/gc.js";
import { createMd5Worker, type Md5Worker } from "./jobs/md5.js";
import { createExportService } from "./services/export-service.js";
import { createFileService } from "./services/file-service.js";
import type { BlobStore } from "./domain/ports/blob-store.js";
import { createAccessKeysDomain } from "./domain/keys/index.js";
import { createAliasesDomain } from "./domain/aliases/index.js";
import { createAuditDomain } from "./domain/audit/index.js";
import { createModelsDomain } from "./domain/models/index.js";
import { createVersionsDomain } from "./domain/versions/index.js";
import { createWorkspacesDomain } from "./domain/workspaces/index.js";
import { createHealthService, Health, type HealthService } from "./grpc/health.js";
import { createReflectionServices, ServerReflectionV1, ServerReflectionV1alpha } from "./grpc/reflection.js";
import { createAccessLog } from "./interceptors/access-log.js";
import { createMetrics, type Metrics } from "./metrics/index.js";
import { healthFollowingReadiness } from "./readiness/grpc-health.js";
import { createProbeRoutes } from "./readiness/probe-routes.js";
import { createReadiness, type Readiness } from "./readiness/readiness.js";
import { auditInterceptor } from "./interceptors/audit.js";
import { authInterceptor } from "./interceptors/auth.js";
import { errorInterceptor } from "./interceptors/errors.js";
import { checkRequestMessages } from "./interceptors/message-check.js";
import { requestIdInterceptor } from "./interceptors/request-id.js";
import type { Logger } from "./logger.js";
import { createModelService } from "./services/model-service.js";
import { createVersionService } from "./services/version-service.js";
import { strictJsonRoutes } from "./interceptors/strict-json.js";
import { createWorkspaceService } from "./services/workspace-service.js";

export const SERVER_VERSION = "0.1.0";

/** Every modelreg service the server registers (health and reflection aside). */
export const API_SERVICES = [ModelService, VersionService, FileService, ExportService, TaskService, TaskWorkerService, WorkspaceService] as const;

export interface AppDeps {
  db: Database;
  logger: Logger;
  /** Largest request message accepted, in bytes. */
  maxMessageBytes?: number;
  /** Auth settings; default: on, no environment admin key, no rate limit, 50 failed authentications per address at once (failuresPerPeer; 0 = no such limit). */
  auth?: { enabled: boolean; adminToken?: string; ratePerSecond?: number; burst?: number; failuresPerPeer?: number };
  /** `postgres` or `pglite`, for GetServerInfo. */
  database?: string;
  /** Where the files of versions are stored. */
  store: BlobStore;
  /** Keys that sign download and upload URLs, newest first (see auth/signing-keys.ts). */
  signingKeys: SigningKey[];
  /** The address clients reach the server at, for absolute URLs; default: from each request's Host. */
  publicUrl?: string;
  /** Browser origins allowed to call from other origins (CORS_ORIGINS, http/cors.ts); unset = CORS off. */
  corsOrigins?: CorsOrigins;
  /** Uploads one access key may have in flight at once (default 8). */
  uploadsPerKey?: number;
  /** Largest body of one upload request (default 256 MiB). */
  maxChunkBytes?: number;
  /** The job engine: jobs run at once (default 2; 0 = none), lease, poll interval. */
  jobs?: { concurrency?: number; leaseMs?: number; pollMs?: number; backoffMs?: number; progressMs?: number };
  /** Garbage collection as a job (queued by the caller, see jobs/periodic.ts); unset = not run by this process. */
  gc?: { graceMs: number };
  /** LISTEN on the database (DatabaseHandle.listen), which wakes task watchers; unset: they look again at each keep-alive. */
  listen?: DatabaseHandle["listen"];
  /**
   * Tasks: quiet time before a WatchTask keep-alive (default 15 s); a
   * worker's lease without a report (default 30 s); log bytes kept per task
   * (default 64 MiB); how often this process sweeps for lost leases
   * (default 1 s); how often a waiting claim looks without a wake-up
   * (default 5 s).
   */
  tasks?: { watchKeepAliveMs?: number; leaseMs?: number; logCapBytes?: number; sweepMs?: number; claimRecheckMs?: number };
  /**
   * Aborted when the process starts shutting down: waiting ClaimTask calls
   * answer "no task" and WatchTask streams end, so that they do not hold the
   * drain; their clients carry on with another replica.
   */
  draining?: AbortSignal;
  /** The database pool's use now (DatabaseHandle.stats), for metrics and readiness; unset: not reported. */
  databaseStats?: () => DatabaseStats;
  /** Readiness checks of the database (readiness/readiness.ts): how often once started (default 2 s), and how long one may take (default 3 s). */
  readiness?: { everyMs?: number; timeoutMs?: number };
  /** Told as each streaming RPC starts; the function it returns, once its HTTP exchange ends (the heap policy, heap-room.ts). */
  streamActivity?: () => () => void;
}

/** The server as a library sees it: RPC routes and interceptors, one HTTP handler, and the parts a process starts and stops. */
export interface App {
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** Every request: the signed byte routes first, every other request to the RPCs. */
  handler: ReturnType<typeof rpcAdapter>;
  health: HealthService;
  md5: Md5Worker;
  jobs: JobEngine;
  /** The LISTEN for task notifications: closed on shutdown, before the database. */
  wakeups: TaskWakeupsService;
  /** Ends task attempts whose worker stopped reporting: started with the server, stopped before the database closes. */
  taskLeases: LeaseSweeper;
  /** Upload requests of an access key in flight now ("" = every caller with AUTH=off). */
  uploadsInFlight(accessKeyId: string): number;
  /** Prometheus metrics of this app, in its own registry (metrics/index.ts); served by metrics/metrics-server.ts. */
  metrics: Metrics;
  /** Whether the database is reachable and migrated (/readyz, gRPC health); start() checks periodically, health.shutdown() stops it. */
  readiness: Readiness;
}

export function createApp(deps: AppDeps): App {
  const auth = deps.auth ?? { enabled: true };
  const d = createDomains(deps);
  const readiness = createReadiness({ db: deps.db, logger: deps.logger, databaseStats: deps.databaseStats, ...deps.readiness });
  const serviceNames = API_SERVICES.map((s) => s.typeName);
  const health = healthFollowingReadiness(createHealthService(), readiness, serviceNames);
  for (const s of serviceNames) health.setServing(s, true);
  const metrics = createMetrics({ db: deps.db, logger: deps.logger, jobKinds: d.jobKinds, databaseStats: deps.databaseStats, ready: () => readiness.current().ready });
  const accessLog = createAccessLog(deps.logger, metrics.calls);
  const limits = createAuthLimits({ perPeer: failureBudget(auth.failuresPerPeer) });
  const authenticator = createAuthenticator({ keys: d.accessKeys, logger: deps.logger, adminToken: auth.adminToken, limits });
  const rateLimiter = auth.ratePerSecond ? createRateLimiter({ ratePerSecond: auth.ratePerSecond, burst: auth.burst ?? auth.ratePerSecond * 2 }) : undefined;

  // Interceptor order, outermost first:
  //   1. request id  - every call gets one; echoed in x-request-id
  //   2. access log  - one line per call with its final code and duration
  //   3. audit       - one row per mutating call, with its final code (refusals too)
  //   4. errors      - domain errors -> Connect codes; nothing else escapes
  //   5. auth        - key -> principal; role from the contract; per-key rate limit
  const interceptors: Interceptor[] = [
    requestIdInterceptor(),
    accessLog.interceptor,
    auditInterceptor(d.audit, deps.logger),
    errorInterceptor(deps.logger),
    authInterceptor({ enabled: auth.enabled, authenticator, rateLimiter, ratePerSecond: auth.ratePerSecond }),
  ];
  const signer = createUrlSigner({ keys: deps.signingKeys });
  const urls = createFileUrls(signer);
  const info = { serverVersion: SERVER_VERSION, authEnabled: auth.enabled, database: deps.database ?? "" };
  // JSON requests read strictly: unknown fields and enum names refused, naming them (interceptors/strict-json.ts).
  const routes = strictJsonRoutes(serviceRoutes(deps, d, { health, authenticator, urls, info }));
  // The peer's address: failed authentications are limited per peer (auth/auth-limits.ts).
  const contextValues = (req: { socket?: { remoteAddress?: string } }) => createContextValues().set(peerAddressKey, req.socket?.remoteAddress);
  const readMaxBytes = deps.maxMessageBytes ?? 4 * 1024 * 1024;
  // Malformed binary request messages: InvalidArgument, and logged (interceptors/message-check.ts).
  const checkedRoutes = checkRequestMessages(routes, { accessLog, readMaxBytes, compression: RPC_COMPRESSION });
  const rpc = rpcAdapter({
    routes: checkedRoutes,
    interceptors,
    contextValues,
    acceptCompression: RPC_COMPRESSION,
    readMaxBytes,
    streamActivity: deps.streamActivity,
    onError: (err, h) => deps.logger.error({ err, rpc: `${h.service.typeName}/${h.method.name}` }, "could not answer an RPC: its handler or the write of its answer failed"),
  });
  // A signed URL stops working once the key it was issued to no longer stands.
  const urlCheck = createSignedUrlCheck(signer, auth.enabled ? (keyId) => authenticator.keyStatus(keyId) : undefined);
  const fileRoutes = createFileRoutes({ files: d.files, store: deps.store, uploads: d.uploads, signer: urlCheck, urls, publicUrl: deps.publicUrl, logger: deps.logger, observer: metrics.byteRoutes });
  // /healthz and /readyz: plain HTTP, no key (readiness/probe-routes.ts).
  const probeRoutes = createProbeRoutes(readiness);
  // CORS (when CORS_ORIGINS is set) answers preflights and marks the answers of both.
  const handler: typeof rpc = withCors((req, res) => {
    const plain = res as unknown as Parameters<typeof fileRoutes>[1];
    if (!fileRoutes(req, plain) && !probeRoutes(req, plain)) rpc(req, res);
  }, deps.corsOrigins);
  return { routes, interceptors, handler, health, md5: d.md5, jobs: d.jobs, wakeups: d.wakeups, taskLeases: d.taskLeases, uploadsInFlight: (keyId) => d.uploadLimiter.inFlight(keyId), metrics, readiness };
}

/** Every domain over the one database, each with its ports, and the background workers they use. */
function createDomains(deps: AppDeps) {
  const md5 = createMd5Worker({ db: deps.db, store: deps.store, logger: deps.logger });
  const uploadsPerKey = deps.uploadsPerKey ?? 8;
  const uploadLimiter = createConcurrencyLimiter({ max: uploadsPerKey });
  const uploads = createUploadSessionsDomain({
    db: deps.db,
    store: deps.store,
    concurrency: { limiter: uploadLimiter, max: uploadsPerKey },
    onStored: (sha256) => md5.schedule(sha256),
    maxChunkBytes: deps.maxChunkBytes,
  });
  const exportJob = createExportJob({ runs: createExportRuns(deps.db), store: deps.store, logger: deps.logger, progressMs: deps.jobs?.progressMs });
  const gc: Record<string, JobKind> = deps.gc ? { [GC_JOB]: gcJob({ db: deps.db, store: deps.store, logger: deps.logger, graceMs: deps.gc.graceMs }) } : {};
  const { concurrency, leaseMs, pollMs, backoffMs } = deps.jobs ?? {};
  const jobs = createJobEngine({ db: deps.db, logger: deps.logger, kinds: { [EXPORT_JOB]: exportJob, ...gc }, concurrency, leaseMs, pollMs, backoffMs });
  const wakeups = createTaskWakeups({ listen: deps.listen, logger: deps.logger });
  const taskContent = createTaskContent({ db: deps.db, store: deps.store, maxChunkBytes: deps.maxChunkBytes });
  const t = deps.tasks ?? {};
  const taskLeaseMs = t.leaseMs ?? 30_000;
  const runs = createTaskRuns(deps.db, taskContent, wakeups, { leaseMs: taskLeaseMs, logCapBytes: t.logCapBytes ?? 64 << 20, claimRecheckMs: t.claimRecheckMs ?? 5000 });
  return {
    runs,
    taskLeases: createLeaseSweeper({ sweep: runs.sweep, everyMs: t.sweepMs ?? 1000, logger: deps.logger }),
    workers: createWorkersDomain(deps.db, taskLeaseMs),
    wakeups,
    tasks: createTasksDomain(deps.db, taskContent, { wakeups, watchKeepAliveMs: deps.tasks?.watchKeepAliveMs }),
    md5,
    uploadLimiter,
    uploads,
    jobs,
    jobKinds: [EXPORT_JOB, GC_JOB],
    files: createFilesDomain({ db: deps.db, store: deps.store, maxChunkBytes: deps.maxChunkBytes }),
    models: createModelsDomain(deps.db),
    aliases: createAliasesDomain(deps.db),
    versions: createVersionsDomain(deps.db),
    exports: createExportsDomain(deps.db, jobs),
    workspaces: createWorkspacesDomain(deps.db),
    accessKeys: createAccessKeysDomain(deps.db, keyMaterial),
    audit: createAuditDomain(deps.db),
  };
}
type Domains = ReturnType<typeof createDomains>;

/** Every service on one router: the five of the contract, health and reflection. */
function serviceRoutes(
  deps: AppDeps,
  d: Domains,
  x: { health: HealthService; authenticator: Authenticator; urls: (base: string) => FileUrls; info: { serverVersion: string; authEnabled: boolean; database: string } },
) {
  const reflection = createReflectionServices([...API_SERVICES, Health, ServerReflectionV1]);
  return (router: ConnectRouter) => {
    router.service(ModelService, createModelService(d.models, d.aliases));
    router.service(VersionService, createVersionService(d.versions));
    router.service(FileService, createFileService({ files: d.files, uploads: d.uploads, store: deps.store, urls: x.urls, publicUrl: deps.publicUrl }));
    router.service(ExportService, createExportService({ exports: d.exports, urls: x.urls, publicUrl: deps.publicUrl }));
    router.service(TaskService, createTaskService({ tasks: d.tasks, workers: d.workers, urls: x.urls, publicUrl: deps.publicUrl, draining: deps.draining }));
    router.service(TaskWorkerService, createTaskWorkerService({ workers: d.workers, runs: d.runs, urls: x.urls, publicUrl: deps.publicUrl, draining: deps.draining }));
    router.service(
      WorkspaceService,
      createWorkspaceService({ workspaces: d.workspaces, accessKeys: d.accessKeys, audit: d.audit, authenticator: x.authenticator, info: x.info }),
    );
    router.service(Health, x.health.impl);
    router.service(ServerReflectionV1, reflection.v1);
    router.service(ServerReflectionV1alpha, reflection.v1alpha);
  };
}
