// Reporting a failed command on stderr: `error: <message>` (for bad fields:
// `error: invalid request:` and one line per field), then a hint saying what
// to do next. With --output json the error is also written as one JSON
// line, last, for scripts.
import { Code, ConnectError, errorDetails, isLoopback } from "@modelreg/sdk";
import { describeCredential, type Credential } from "./credentials.js";
import { exitCodeFor, UsageError } from "./exit-codes.js";
import type { Io } from "./io.js";
import type { OutputFormat } from "./output.js";

/** What the hints may mention. */
export interface ErrorContext {
  format: OutputFormat;
  server: string;
  workspace: string;
  timeoutMs?: number;
  /** The access key the command sent (never printed: only its id and source). */
  credential?: Credential;
}

export interface ErrorJson {
  error: {
    code: string;
    message: string;
    reason?: string;
    metadata?: Record<string, string>;
    fieldViolations?: { field: string; description: string }[];
  };
}

/** Writes the error to stderr and returns the exit code. */
export function reportError(err: unknown, io: Io, ctx: ErrorContext): number {
  const json = errorJson(err);
  const violations = json.error.fieldViolations ?? [];
  // The server's message of an InvalidArgument repeats the violations; list them once, one per line.
  const lines = [violations.length > 0 ? "error: invalid request:" : `error: ${json.error.message}`];
  for (const v of violations) lines.push(`  ${v.field}: ${v.description}`);
  const hint = hintFor(err, ctx);
  if (hint) lines.push(`hint: ${hint}`);
  if (err instanceof UsageError) lines.push("(add --help for usage)");
  io.stderr.write(`${lines.join("\n")}\n`);
  if (ctx.format === "json") io.stderr.write(`${JSON.stringify(json)}\n`);
  return exitCodeFor(err);
}

export function errorJson(err: unknown): ErrorJson {
  if (err instanceof ConnectError) {
    const d = errorDetails(err);
    return {
      error: {
        code: d.codeName,
        message: d.message,
        ...(d.reason ? { reason: d.reason } : {}),
        ...(Object.keys(d.metadata).length > 0 ? { metadata: d.metadata } : {}),
        fieldViolations: d.fieldViolations,
      },
    };
  }
  if (err instanceof UsageError) return { error: { code: "usage", message: err.message } };
  return { error: { code: "unknown", message: err instanceof Error ? err.message : String(err) } };
}

export function hintFor(err: unknown, ctx: ErrorContext): string | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  const d = errorDetails(err);
  switch (err.code) {
    case Code.Unavailable:
      if (d.reason === "DATABASE_UNAVAILABLE") return "the server is up but its database is not; the call changed nothing and is safe to retry";
      return `is the server running at ${ctx.server}? start it with npm start (or pass --server / set MODELREG_SERVER)`;
    case Code.DeadlineExceeded:
      return `no answer within ${ctx.timeoutMs ?? "the"} ms; retry, or raise --timeout`;
    case Code.NotFound:
      return `short names resolve in workspace "${ctx.workspace}" (--workspace / MODELREG_WORKSPACE); see what exists with "modelreg models list"`;
    case Code.AlreadyExists:
      return "choose another name, or change the existing one with update";
    case Code.Aborted: {
      const current = d.metadata.current_etag;
      return `it changed since you read it; re-read it with get and retry with the new etag${current ? ` (now ${current})` : ""}`;
    }
    case Code.Unauthenticated:
      return unauthenticatedHint(ctx);
    case Code.PermissionDenied:
      return `the access key's role is not enough for this (see modelreg whoami); use a key with the role the message names`;
    case Code.FailedPrecondition:
      if (d.reason === "MODEL_HAS_VERSIONS") return "delete its versions first, or add --force to delete the model with all its versions";
      if (d.reason === "VERSION_READY") return "the version has files already; add --overwrite to replace them, or push to a new version (model without :version)";
      if (d.reason === "VERSION_PENDING") return "the version has no committed files yet; push files to it first (modelreg push <path> model:version)";
      return undefined;
    default:
      return undefined;
  }
}

/** Says which key was sent (by id and source) and how to send a good one. */
function unauthenticatedHint(ctx: ErrorContext): string {
  const sent = ctx.credential ? describeCredential(ctx.credential) : undefined;
  const what = ctx.credential?.token ? `the server refused the ${sent}` : "no access key was sent";
  let hint = `${what}: log in with \`modelreg login\` or set MODELREG_ACCESS_KEY`;
  if (ctx.credential?.source.kind === "admin-key-file") {
    hint += `; if the server's database was reset, ${ctx.credential.source.path} may be stale (the server rewrites it on a first start)`;
  } else if (isLoopback(ctx.server)) {
    const where = ctx.credential?.adminKeyPath;
    hint += `; for a server on this machine the CLI also reads the admin key it writes to DATA_DIR/admin.key${where ? ` (looked in ${where})` : ""}`;
  }
  return hint;
}
