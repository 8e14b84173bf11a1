// Reporting a failed command on stderr: `error: <message>` (for bad fields:
// `error: invalid request:` and one line per field), then a hint saying what
// to do next. With --output json the error is also written as one JSON
// line, last, for scripts (--output yaml: as a last YAML document).
import { Code, ConnectError, errorDetails, isLoopback } from "@modelreg/sdk";
import { describeCredential, type Credential, type CredentialSource } from "./credentials.js";
import { exitCodeFor, UsageError } from "./exit-codes.js";
import type { Io } from "./io.js";
import { type OutputFormat, streamItemText } from "./output.js";
import { DEFAULT_PROFILE } from "./profiles.js";

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
  if (ctx.format !== "table") io.stderr.write(streamItemText(ctx.format, json));
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
  if (untrustedCertificate(err))
    return "the server's TLS certificate is not trusted here: set NODE_EXTRA_CA_CERTS to a PEM file of the authority that signed it (or of the certificate itself, when self-signed)";
  const d = errorDetails(err);
  switch (err.code) {
    case Code.Unavailable:
      if (d.reason === "DATABASE_UNAVAILABLE") return "the server is up but its database is not; the call changed nothing and is safe to retry";
      return `is the server running at ${ctx.server}? start it with npm start (or pass --server / set MODELREG_SERVER)`;
    case Code.DeadlineExceeded:
      return `no answer within ${ctx.timeoutMs ?? "the"} ms; retry, or raise --timeout`;
    case Code.NotFound:
      return notFoundHint(d.metadata, ctx);
    case Code.AlreadyExists:
      return "choose another name, or change the existing one with update";
    case Code.Aborted: {
      const current = d.metadata.current_etag;
      return `it changed since you read it; re-read it with get and retry with the new etag${current ? ` (now ${current})` : ""}`;
    }
    case Code.Unauthenticated:
      return unauthenticatedHint(ctx);
    case Code.PermissionDenied:
      return permissionDeniedHint(ctx);
    case Code.FailedPrecondition:
      if (d.reason === "MODEL_HAS_VERSIONS") return "delete its versions first, or add --force to delete the model with all its versions";
      if (d.reason === "VERSION_READY") return "the version has files already; add --overwrite to replace them, or push to a new version (model without :version)";
      if (d.reason === "VERSION_PENDING") return "the version has no committed files yet; push files to it first (modelreg push <path> model:version)";
      if (d.reason === "NO_READY_VERSION") {
        const model = modelOf(d.metadata.resource);
        return `push files to one of its versions first (modelreg push <path> ${model}[:version]); see them and their states with "modelreg versions list ${model}"`;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** Node's verdicts on a server certificate no trusted authority signed. */
const UNTRUSTED = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED)$/;

function untrustedCertificate(err: ConnectError): boolean {
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return (typeof code === "string" && UNTRUSTED.test(code)) || /self[- ]signed certificate|unable to (verify|get) .*certificate/i.test(err.rawMessage);
}

/** `workspaces/{w}/models/{m}/versions/{v}` or `.../models/{m}@{alias}`: the workspace and the model. */
const IN_MODEL = /^workspaces\/([^/]+)\/models\/([^/@]+)(?:\/versions\/[^/]+|@[^/]+)?$/;

/** The short name of the model a resource name is in (`fraud` of `workspaces/w/models/fraud/versions/1.0.0`); "<model>" when there is none. */
function modelOf(resource: string | undefined): string {
  return IN_MODEL.exec(resource ?? "")?.[2] ?? "<model>";
}

/**
 * Where to look for what is missing (the server says what in ErrorInfo
 * resource_type): a version or an alias among those of its model, anything
 * else (a model) among the models of the workspace.
 */
function notFoundHint(metadata: Record<string, string>, ctx: ErrorContext): string {
  const type = metadata.resource_type;
  const inModel = IN_MODEL.exec(metadata.resource ?? "");
  if (inModel && (type === "version" || type === "alias")) {
    const [, workspace, model] = inModel;
    const what = type === "alias" ? "aliases" : "versions";
    const elsewhere = workspace === ctx.workspace ? "" : ` --workspace ${workspace}`;
    return `see the ${what} of model ${model} with "modelreg ${what} list ${model}${elsewhere}"`;
  }
  return `short names resolve in workspace "${ctx.workspace}" (--workspace / MODELREG_WORKSPACE); see what exists with "modelreg models list"`;
}

/** The key sent, by id and source (never its secret); undefined when none was. */
function sentKey(ctx: ErrorContext): string | undefined {
  return ctx.credential?.token ? describeCredential(ctx.credential) : undefined;
}

/** Where the CLI reads a local server's admin key, for hints: `DATA_DIR/admin.key (looked in ...)`. */
function adminKeyFileHint(ctx: ErrorContext): string {
  const where = ctx.credential?.adminKeyPath;
  return `DATA_DIR/admin.key${where ? ` (looked in ${where})` : ""}`;
}

/** Says which key was sent (by id and source) and how to send a good one. */
function unauthenticatedHint(ctx: ErrorContext): string {
  const sent = sentKey(ctx);
  const what = sent ? `the server refused the ${sent}` : "no access key was sent";
  let hint = `${what}: log in with \`modelreg login\` or set MODELREG_ACCESS_KEY`;
  if (ctx.credential?.source.kind === "admin-key-file") {
    hint += `; if the server's database was reset, ${ctx.credential.source.path} may be stale (the server rewrites it on a first start)`;
  } else if (isLoopback(ctx.server)) {
    hint += `; for a server on this machine the CLI also reads the admin key it writes to ${adminKeyFileHint(ctx)}`;
  }
  return hint;
}

/** Says which key's role was too small (by id and source) and how to send another one instead. */
function permissionDeniedHint(ctx: ErrorContext): string {
  const sent = sentKey(ctx);
  const whose = sent ? `the ${sent}` : "the access key";
  const hint = `the role of ${whose} is not enough for this (see modelreg whoami); use a key with the role the message names`;
  return ctx.credential ? `${hint}: ${otherKeyHint(ctx.credential.source, ctx)}` : hint;
}

/** The ways to send another key that win over one from `source` (the order is in credentials.ts). */
function otherKeyHint(source: CredentialSource, ctx: ErrorContext): string {
  switch (source.kind) {
    case "flag":
      return "give another with --access-key";
    case "env":
      return "give another with --access-key or MODELREG_ACCESS_KEY";
    case "profile": {
      const logout = source.profile === DEFAULT_PROFILE ? "modelreg logout" : `modelreg logout --profile ${source.profile}`;
      const fallback = isLoopback(ctx.server) ? `; for a server on this machine the CLI then falls back to ${adminKeyFileHint(ctx)}` : "";
      return `give another with --access-key, MODELREG_ACCESS_KEY or --profile <name>, or drop profile "${source.profile}" with \`${logout}\`${fallback}`;
    }
    default:
      return "give one with --access-key or MODELREG_ACCESS_KEY, or log in with `modelreg login`";
  }
}
