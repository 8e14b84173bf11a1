// A server that cannot start says so in one JSON log line (pino's format,
// like every other line it writes) with what to fix, then exits: 2 for a
// setting that is wrong, 1 for anything else (the database cannot be
// reached, DATA_DIR cannot be written, the port is taken, ...). The error
// itself is in the line's "err" for whoever needs its stack.
import { errorCodes } from "./domain/shared/db-errors.js";
import { createLogger } from "./logger.js";

/** What the process was starting with, to name the setting to fix. */
export interface StartupContext {
  databaseUrl?: string;
  dataDir?: string;
  port?: number;
  host?: string;
  metricsPort?: number;
}

/** Writes the line and exits with `exitCode`. */
export function exitOnStartupFailure(message: string, err: unknown, exitCode: 1 | 2): never {
  const logger = createLogger("info");
  logger.fatal({ err, exitCode }, message);
  // pino flushes its stdout stream on exit.
  process.exit(exitCode);
}

/** One sentence: what failed and what to do about it. */
export function startupFailureMessage(err: unknown, ctx: StartupContext): string {
  const codes = errorCodes(err);
  const has = (...c: string[]) => codes.some((x) => c.includes(x));
  const detail = err instanceof Error ? err.message : String(err);
  const e = err as { port?: number; address?: string; path?: string; syscall?: string };

  if (e.syscall === "listen" && has("EADDRINUSE", "EACCES", "EADDRNOTAVAIL")) {
    const setting = ctx.metricsPort !== undefined && e.port === ctx.metricsPort ? "METRICS_PORT" : "PORT";
    const where = `${e.address ?? ctx.host ?? ""}:${e.port ?? ""}`;
    if (has("EADDRINUSE")) return `cannot listen on ${where}: another process uses that port; stop it or set ${setting} to a free port`;
    if (has("EACCES")) return `cannot listen on ${where}: not allowed (ports below 1024 need privileges); set ${setting} to 1024 or above`;
    return `cannot listen on ${where}: this machine has no such address; set ${setting === "PORT" ? "HOST" : "METRICS_HOST"} to one of its addresses (or 0.0.0.0)`;
  }
  if (ctx.databaseUrl) {
    const db = describeUrl(ctx.databaseUrl);
    if (has("28P01", "28000")) return `PostgreSQL refused the login of user "${db.user}" at ${db.host}: check the user and password in DATABASE_URL`;
    if (has("3D000")) return `the database "${db.database}" does not exist on the PostgreSQL server at ${db.host}: create it (createdb ${db.database}) or correct DATABASE_URL`;
    if (has("ENOTFOUND", "EAI_AGAIN")) return `cannot connect to the database: the host in DATABASE_URL (${db.host}) is not found; correct DATABASE_URL`;
    if (has("ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH", "57P03", "08001", "08006", "CONNECTION_CLOSED"))
      return `cannot connect to the database at ${db.host} (${codes[0]}): check that PostgreSQL runs there and that DATABASE_URL is right; DATABASE_CONNECT_TIMEOUT_MS bounds each attempt`;
  }
  if (has("EACCES", "EPERM", "EROFS", "ENOTDIR", "ENOSPC") && (e.path || ctx.dataDir)) {
    const path = e.path ?? ctx.dataDir;
    return `cannot write ${path} (${detail}): DATA_DIR (${ctx.dataDir ?? "./data"}) must be a directory this user can create and write; set DATA_DIR or fix its permissions`;
  }
  return `failed to start: ${detail}`;
}

/** The parts of a PostgreSQL URL worth naming (never its password). */
function describeUrl(url: string): { host: string; user: string; database: string } {
  try {
    const u = new URL(url);
    return { host: `${u.hostname}:${u.port || "5432"}`, user: decodeURIComponent(u.username), database: decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) };
  } catch {
    return { host: "(unparsable DATABASE_URL)", user: "", database: "" };
  }
}
