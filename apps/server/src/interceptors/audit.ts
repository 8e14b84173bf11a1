// The audit log: every mutating call (anything not marked NO_SIDE_EFFECTS,
// and not a worker's heartbeat or claim: TELEMETRY) by an authenticated
// caller leaves one row, however it ended, refusals
// included. The row is written before the response is sent, so an
// acknowledged change is always audited. It records who (user, key id -
// never a secret), where (workspace, resource), what (method), the outcome
// code and the request id.
//
// A call refused before it was authenticated (no key, a wrong or revoked
// one, too many failures) has nobody to record and could name any
// workspace, real or not: it goes to the server's log instead of a tenant's.
// A key of one workspace probing another leaves its row there without its
// user's name (the key id stays, so the owning workspace can be told).
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { Interceptor } from "@connectrpc/connect";
import { codeNameOf } from "./code-name.js";
import { bearerOf, parseToken } from "../auth/keys.js";
import { callIdentityKey, type CallIdentity } from "../auth/principal.js";
import type { AuditDomain, AuditRow } from "../domain/audit/index.js";
import type { Logger } from "../logger.js";
import { PUBLIC_SERVICES } from "./auth.js";
import { type AnyRequest, type AnyResponse, madeOnce, type Next } from "./made-once.js";
import { requestIdOf } from "./request-id.js";

/**
 * A worker's heartbeat and its waiting claims: each worker makes one every
 * few seconds for as long as it runs, and what they change is recorded in
 * the task's own events (ordered, with the attempt and the worker), so an
 * audit row each would only bury the changes people make.
 */
const TELEMETRY = new Set(["modelreg.v1.TaskWorkerService/ReportProgress", "modelreg.v1.TaskWorkerService/ClaimTask"]);

/** The resource a request addresses: its `name`, `parent`, or a nested message's `name`. */
export function resourceOf(message: unknown): string {
  const m = message as Record<string, unknown>;
  for (const field of ["name", "parent"]) if (typeof m[field] === "string" && m[field]) return m[field] as string;
  for (const value of Object.values(m)) {
    if (value && typeof value === "object" && typeof (value as { name?: unknown }).name === "string" && (value as { name: string }).name)
      return (value as { name: string }).name;
  }
  if (typeof m.workspaceId === "string" && m.workspaceId) return `workspaces/${m.workspaceId}`;
  return "";
}

function workspaceOf(resource: string): string {
  const m = /^workspaces\/([^/]+)/.exec(resource);
  return m && m[1] !== "-" ? m[1]! : "";
}

export function auditInterceptor(audit: Pick<AuditDomain, "record">, logger: Logger): Interceptor {
  // Mutations write the "ok" row inside their own transaction through the
  // call's audit hook; whatever did not (and every failure) is written here.
  const mutation = async (req: AnyRequest, next: Next, identity: CallIdentity): Promise<AnyResponse> => {
    const resource = resourceOf(req.message).slice(0, 1024);
    const row = (code: string): AuditRow => {
      const p = identity.principal;
      const named = workspaceOf(resource);
      const foreign = named !== "" && p !== undefined && p.workspace !== null && p.workspace !== named;
      return {
        workspace: named || (p?.workspace ?? ""),
        user: foreign ? "" : (p?.user ?? ""),
        accessKeyId: p?.keyId ?? "",
        method: `${req.service.typeName}/${req.method.name}`,
        resource,
        code,
        requestId: requestIdOf(req),
      };
    };
    let written = false;
    identity.audit = { values: () => row("ok"), markWritten: () => (written = true) };
    const record = async (code: string) => {
      try {
        await audit.record(row(code));
      } catch (err) {
        logger.error({ err, requestId: requestIdOf(req) }, "could not write the audit event of a call");
      }
    };
    try {
      const res = await next(req);
      if (!written) await record("ok");
      return res;
    } catch (err) {
      if (identity.principal) await record(codeNameOf(err));
      else
        logger.warn(
          {
            rpc: `${req.service.typeName}/${req.method.name}`,
            resource,
            code: codeNameOf(err),
            // The key id the caller claimed, if any (ids are not secret; the secret is never logged).
            accessKeyId: parseToken(bearerOf(req.header.get("authorization")) ?? "")?.keyId ?? "",
            requestId: requestIdOf(req),
          },
          "refused before authentication",
        );
      throw err;
    }
  };
  // Reads pass straight on, without a promise of their own.
  return madeOnce((req, next) => {
    const identity: CallIdentity = {};
    req.contextValues.set(callIdentityKey, identity);
    const mutating =
      !req.stream &&
      !PUBLIC_SERVICES.has(req.service.typeName) &&
      req.method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS &&
      !TELEMETRY.has(`${req.service.typeName}/${req.method.name}`);
    return mutating ? mutation(req, next, identity) : next(req);
  });
}
