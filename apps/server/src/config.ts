// Server configuration, from environment variables only.
import { resolve } from "node:path";
import type { TransportLimits } from "./http/serve.js";

export interface Config {
  port: number;
  host: string;
  /** METRICS_PORT: Prometheus metrics on their own plain-HTTP listener; unset = off, 0 = a free port (logged). */
  metricsPort: number | undefined;
  /** METRICS_HOST: the metrics listener's address (default HOST). */
  metricsHost: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** PostgreSQL: how long opening a connection may take, and how long a call waits for a free one. */
  databaseConnectTimeoutMs: number;
  databaseAcquireTimeoutMs: number;
  /** PostgreSQL: parameterised statements run prepared (DATABASE_PREPARED_STATEMENTS). */
  databasePreparedStatements: boolean;
  /** PostgreSQL: plain queries one busy connection may carry at once (DATABASE_PIPELINE). */
  databasePipeline: number;
  /** V8's --heap-growing-percent (0: V8's default). */
  heapGrowingPercent: number;
  logLevel: string;
  shutdownGraceMs: number;
  maxMessageBytes: number;
  /** false only with AUTH=off. */
  authEnabled: boolean;
  /** MODELREG_ADMIN_KEY: the server-wide admin token, `<key_id>.<secret>`. */
  adminToken: string | undefined;
  /** Requests per second per access key; 0 = unlimited. */
  rateLimitPerKey: number;
  rateLimitBurst: number;
  /** Failed authentications one client address may make at once (refilled at a tenth a second); 0 = no per-address limit. */
  authFailuresPerPeer: number;
  /** PUBLIC_URL: the address clients reach the server at, for absolute download and upload URLs. */
  publicUrl: string | undefined;
  /** CORS_ORIGINS: the browser origins allowed to call (exact origins, or "*" for any); undefined = CORS off. */
  corsOrigins: readonly string[] | "*" | undefined;
  /** URL_SIGNING_KEY: secret that signs download/upload URLs; unset = one kept in the database. */
  urlSigningKey: string | undefined;
  /** Uploads one access key may have in flight. */
  uploadsPerKey: number;
  /** Largest upload request body. */
  maxChunkBytes: number;
  /** Garbage collection of unreferenced files: how often, and how long unreferenced content is kept. */
  gcIntervalSeconds: number;
  gcGraceSeconds: number;
  /** Background jobs (exports) this process runs at once, and how long a job's lease lasts. */
  jobConcurrency: number;
  jobLeaseSeconds: number;
  /** Task workers: lease without a report, and log bytes kept per task. */
  tasks: { leaseMs: number; logCapBytes: number };
  /** Limits on connections, slow requests and HTTP/2 streams (http/serve.ts TransportLimits). */
  transport: TransportLimits;
}

interface Setting {
  name: string;
  default: string;
  help: string;
}

export const SETTINGS: Setting[] = [
  { name: "PORT", default: "8080", help: "TCP port for Connect, gRPC and gRPC-Web (HTTP/1.1 and cleartext HTTP/2); 0 picks a free port" },
  { name: "HOST", default: "127.0.0.1", help: "address to listen on; 0.0.0.0 or :: to accept connections from other machines" },
  {
    name: "METRICS_PORT",
    default: "",
    help: "TCP port of a separate plain-HTTP listener answering GET /metrics (Prometheus text format, no access key); unset = no metrics listener; 0 picks a free port (named in the start line)",
  },
  { name: "METRICS_HOST", default: "", help: "address the metrics listener binds; unset = HOST" },
  { name: "DATA_DIR", default: "./data", help: "where the embedded database (DATA_DIR/pg) keeps its files when DATABASE_URL is unset" },
  { name: "DATABASE_URL", default: "", help: "PostgreSQL URL, e.g. postgres://user@db:5432/modelreg; unset = embedded PGlite in DATA_DIR" },
  { name: "DATABASE_POOL_SIZE", default: "10", help: "PostgreSQL connections per server process" },
  {
    name: "DATABASE_CONNECT_TIMEOUT_MS",
    default: "1000",
    help: "how long opening a PostgreSQL connection (TCP, TLS, login) may take; a call that needed it then fails with UNAVAILABLE. Running queries have no time limit",
  },
  {
    name: "DATABASE_ACQUIRE_TIMEOUT_MS",
    default: "5000",
    help: "how long a call waits for a free PostgreSQL connection while all DATABASE_POOL_SIZE are in use (then UNAVAILABLE); while the database is unreachable calls do not wait",
  },
  {
    name: "DATABASE_PREPARED_STATEMENTS",
    default: "on",
    help: "on: PostgreSQL statements run prepared, one round trip each after a connection's first use; off for a pooler that cannot keep them (PgBouncer in transaction mode before 1.21)",
  },
  {
    name: "DATABASE_PIPELINE",
    default: "8",
    help: "while every PostgreSQL connection is busy and the database answers, up to this many plain queries share one connection, sent and answered together (fewer system calls per query), though a query sent behind a slow one waits for it even if another connection frees up meanwhile; transactions always get a connection of their own; 1 = one query per connection at a time",
  },
  {
    name: "HEAP_GROWING_PERCENT",
    default: "50",
    help: "how far the JavaScript heap may grow past what the last full garbage collection kept before the next, in percent, and at least 32 MiB while no blob is being read or written (V8's own default, up to 300%, is used with 0); lower keeps memory lower for a little more collection work",
  },
  { name: "LOG_LEVEL", default: "info", help: "trace, debug, info, warn, error or fatal; logs are JSON lines on stdout" },
  { name: "SHUTDOWN_GRACE_MS", default: "10000", help: "on SIGTERM/SIGINT, how long in-flight calls may take to finish before connections are cut" },
  { name: "MAX_MESSAGE_BYTES", default: "4194304", help: "largest request message accepted, in bytes; larger ones are refused before their body is read" },
  { name: "AUTH", default: "on", help: "on: every call needs an access key; off: no keys at all (a laptop only; the server warns loudly)" },
  {
    name: "MODELREG_ADMIN_KEY",
    default: "",
    help: "server-wide admin key as <key_id>.<secret> (secret of 32+ characters, e.g. admin.$(openssl rand -base64 32 | tr '+/' '-_' | tr -d =)); unset = one is created at the first start and written to DATA_DIR/admin.key (mode 0600)",
  },
  { name: "RATE_LIMIT_PER_KEY", default: "1000", help: "requests per second each access key may make (token bucket, per server process); 0 = unlimited" },
  { name: "RATE_LIMIT_BURST", default: "2000", help: "how many requests a key may make at once before RATE_LIMIT_PER_KEY applies" },
  {
    name: "AUTH_FAILURES_PER_PEER",
    default: "50",
    help: "failed authentications one client address may make at once, refilled at a tenth of this a second; beyond, RESOURCE_EXHAUSTED. 0 = no limit per address (behind a proxy every client has the proxy's address)",
  },
  { name: "PUBLIC_URL", default: "", help: "the server's address as clients reach it (e.g. https://registry.example.com), used in download and upload URLs; unset = the Host of each request" },
  {
    name: "CORS_ORIGINS",
    default: "",
    help: "browser pages allowed to call the server from another origin (the RPCs and the signed upload and download URLs): comma-separated exact origins such as https://app.example.com,http://localhost:5173, or * for any; unset = CORS off, no CORS headers at all",
  },
  { name: "URL_SIGNING_KEY", default: "", help: "secret (32+ characters) that signs download and upload URLs, the same on every replica; unset = one created in the database at the first start" },
  { name: "UPLOADS_PER_KEY", default: "8", help: "upload requests one access key may have in flight at once (RESOURCE_EXHAUSTED / HTTP 429 beyond)" },
  { name: "MAX_CHUNK_BYTES", default: "268435456", help: "largest body of one upload request (HTTP PUT or WriteUpload stream), in bytes" },
  { name: "GC_INTERVAL_SECONDS", default: "3600", help: "how often unreferenced files and expired upload sessions are removed; 0 = never" },
  { name: "GC_GRACE_SECONDS", default: "3600", help: "content no version references is kept at least this long before it is removed" },
  { name: "JOB_CONCURRENCY", default: "2", help: "background jobs (exports) this process runs at once; 0 = none (this replica only serves calls)" },
  {
    name: "JOB_LEASE_SECONDS",
    default: "30",
    help: "a running job's lease, renewed every third of it; when its server dies, another takes the job over after this long",
  },
  {
    name: "TASK_LEASE_SECONDS",
    default: "30",
    help: "how long a task's worker may go without reporting (workers report every sixth of it); then its task is queued again from its last checkpoint",
  },
  { name: "TASK_LOG_MAX_BYTES", default: "67108864", help: "log bytes kept per task; past it the oldest lines are dropped (ListTaskLogs says how many)" },
  { name: "MAX_CONNECTIONS", default: "4096", help: "connections open at once; more are closed as soon as they are accepted (keep it below the open-file limit, ulimit -n)" },
  {
    name: "MAX_CONNECTIONS_PER_PEER",
    default: "128",
    help: "connections one client address (IPv4, or IPv6 /64) may hold open; more are closed at once. Behind a proxy every client has the proxy's address: raise it",
  },
  { name: "HEADERS_TIMEOUT_MS", default: "20000", help: "a new connection's first request headers (HTTP/1.1) or preface (HTTP/2), and every later HTTP/1.1 request's headers, must arrive within this" },
  {
    name: "REQUEST_BODY_TIMEOUT_MS",
    default: "60000",
    help: "a request body of one message must arrive whole within this; an upload (WriteUpload, PUT) may take longer but not pause longer; slower requests are cut",
  },
  { name: "HTTP2_MAX_CONCURRENT_STREAMS", default: "100", help: "requests one HTTP/2 connection may have in flight at once; streams beyond it are refused" },
  { name: "HTTP2_MAX_SESSION_MEMORY_MB", default: "10", help: "memory one HTTP/2 connection may use for its streams and buffers; beyond it new streams are refused" },
];

export class ConfigError extends Error {}

export function helpText(extra: Setting[] = []): string {
  const lines = [
    "modelreg server: a model registry over Connect, gRPC and gRPC-Web on one port.",
    "",
    "Usage: npm start   (builds, then runs the bundle; in production build once and run: node --enable-source-maps apps/server/dist/main.mjs [--help])",
    "",
    "Configuration comes from environment variables:",
    "",
  ];
  for (const s of [...SETTINGS, ...extra]) lines.push(`  ${s.name.padEnd(20)} ${s.help}${s.default ? ` (default ${s.default})` : ""}`);
  return lines.join("\n");
}

function int(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number {
  const raw = env[name] ?? SETTINGS.find((s) => s.name === name)!.default;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new ConfigError(`${name}=${raw} is not valid: expected a whole number from ${min} to ${max}`);
  return n;
}

/** An on/off setting (default on). */
function onOff(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  const v = (raw ?? "on").trim().toLowerCase();
  if (v !== "on" && v !== "off") throw new ConfigError(`${name}=${raw} is not valid: use on or off`);
  return v === "on";
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const logLevel = env.LOG_LEVEL ?? "info";
  if (!["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(logLevel))
    throw new ConfigError(`LOG_LEVEL=${logLevel} is not valid: use trace, debug, info, warn, error or fatal`);
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new ConfigError("DATABASE_URL must start with postgres:// or postgresql://");
  const auth = onOff(env, "AUTH");
  const adminToken = env.MODELREG_ADMIN_KEY?.trim() || undefined;
  if (adminToken && !/^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_~+/=-]{32,256}$/.test(adminToken))
    throw new ConfigError("MODELREG_ADMIN_KEY must be <key_id>.<secret>: an id of letters, digits, '_' or '-', a dot, then a secret of at least 32 characters");
  return {
    authEnabled: auth,
    adminToken,
    rateLimitPerKey: int(env, "RATE_LIMIT_PER_KEY", 0, 1_000_000),
    rateLimitBurst: int(env, "RATE_LIMIT_BURST", 1, 10_000_000),
    authFailuresPerPeer: int(env, "AUTH_FAILURES_PER_PEER", 0, 1_000_000),
    port: int(env, "PORT", 0, 65535),
    host: env.HOST?.trim() || "127.0.0.1",
    ...metricsListenerOf(env),
    dataDir: resolve(env.DATA_DIR?.trim() || "./data"),
    databaseUrl,
    databasePoolSize: int(env, "DATABASE_POOL_SIZE", 1, 1000),
    databaseConnectTimeoutMs: int(env, "DATABASE_CONNECT_TIMEOUT_MS", 100, 600_000),
    databaseAcquireTimeoutMs: int(env, "DATABASE_ACQUIRE_TIMEOUT_MS", 1, 3_600_000),
    databasePreparedStatements: onOff(env, "DATABASE_PREPARED_STATEMENTS"),
    databasePipeline: int(env, "DATABASE_PIPELINE", 1, 100),
    heapGrowingPercent: int(env, "HEAP_GROWING_PERCENT", 0, 1000),
    logLevel,
    shutdownGraceMs: int(env, "SHUTDOWN_GRACE_MS", 0, 3_600_000),
    maxMessageBytes: int(env, "MAX_MESSAGE_BYTES", 1024, 1 << 30),
    publicUrl: publicUrlOf(env.PUBLIC_URL),
    corsOrigins: corsOriginsOf(env.CORS_ORIGINS),
    urlSigningKey: signingKeyOf(env.URL_SIGNING_KEY),
    uploadsPerKey: int(env, "UPLOADS_PER_KEY", 1, 100_000),
    maxChunkBytes: int(env, "MAX_CHUNK_BYTES", 1024 * 1024, 5 * 1024 ** 3),
    gcIntervalSeconds: int(env, "GC_INTERVAL_SECONDS", 0, 30 * 24 * 3600),
    gcGraceSeconds: int(env, "GC_GRACE_SECONDS", 0, 365 * 24 * 3600),
    jobConcurrency: int(env, "JOB_CONCURRENCY", 0, 64),
    jobLeaseSeconds: int(env, "JOB_LEASE_SECONDS", 1, 3600),
    tasks: { leaseMs: int(env, "TASK_LEASE_SECONDS", 1, 3600) * 1000, logCapBytes: int(env, "TASK_LOG_MAX_BYTES", 1024 * 1024, 2 ** 40) },
    transport: {
      maxConnections: int(env, "MAX_CONNECTIONS", 1, 1_000_000),
      maxConnectionsPerPeer: int(env, "MAX_CONNECTIONS_PER_PEER", 1, 1_000_000),
      headersTimeoutMs: int(env, "HEADERS_TIMEOUT_MS", 100, 3_600_000),
      requestBodyTimeoutMs: int(env, "REQUEST_BODY_TIMEOUT_MS", 100, 24 * 3_600_000),
      http2MaxConcurrentStreams: int(env, "HTTP2_MAX_CONCURRENT_STREAMS", 1, 100_000),
      http2MaxSessionMemoryMb: int(env, "HTTP2_MAX_SESSION_MEMORY_MB", 1, 100_000),
    },
  };
}

/** METRICS_PORT (unset = off, 0 = a free port; never the API's port) and METRICS_HOST (default HOST). */
function metricsListenerOf(env: NodeJS.ProcessEnv): { metricsPort: number | undefined; metricsHost: string } {
  const metricsPort = env.METRICS_PORT?.trim() ? int(env, "METRICS_PORT", 0, 65535) : undefined;
  const host = env.HOST?.trim() || "127.0.0.1";
  const metricsHost = env.METRICS_HOST?.trim() || host;
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === int(env, "PORT", 0, 65535))
    throw new ConfigError(`METRICS_PORT=${metricsPort} is the API's PORT: metrics need a port of their own (e.g. 9464), or unset for none`);
  if (env.METRICS_HOST?.trim() && metricsPort === undefined) throw new ConfigError("METRICS_HOST is set but METRICS_PORT is not: set METRICS_PORT (e.g. 9464) to serve metrics");
  return { metricsPort, metricsHost };
}

function publicUrlOf(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !["http:", "https:"].includes(url.protocol) || url.search || url.hash)
    throw new ConfigError(`PUBLIC_URL=${value} is not valid: expected http(s)://host[:port][/path], e.g. https://registry.example.com`);
  return value.replace(/\/+$/, "");
}

/** CORS_ORIGINS: "*", or origins exactly as browsers send them in Origin (scheme://host[:port], lowercase, no path). */
export function corsOriginsOf(raw: string | undefined): readonly string[] | "*" | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (value === "*") return "*";
  const origins: string[] = [];
  for (const entry of value.split(",").map((e) => e.trim())) {
    if (entry === "*") throw new ConfigError(`CORS_ORIGINS=${value} is not valid: * allows every origin and stands alone, not in a list`);
    if (entry === "") throw new ConfigError(`CORS_ORIGINS=${value} is not valid: it has an empty entry; separate origins with single commas`);
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (!url || !["http:", "https:"].includes(url.protocol))
      throw new ConfigError(`CORS_ORIGINS entry ${entry} is not valid: expected an origin http(s)://host[:port], e.g. https://app.example.com`);
    if (url.origin !== entry)
      throw new ConfigError(
        `CORS_ORIGINS entry ${entry} is not valid: browsers send the origin as ${url.origin} (scheme and host in lowercase, no default port, no path or trailing slash); write that`,
      );
    origins.push(entry);
  }
  return [...new Set(origins)];
}

function signingKeyOf(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (value.length < 32) throw new ConfigError("URL_SIGNING_KEY must be at least 32 characters, e.g. $(openssl rand -base64 32)");
  return value;
}
