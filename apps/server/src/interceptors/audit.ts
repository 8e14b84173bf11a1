// The audit log: every mutating call (anything not marked NO_SIDE_EFFECTS)
// leaves one row, whoever made it and however it ended, refusals included.
// The row is written before the response is sent, so an acknowledged change
// is always audited. It records who (user, key id - never a secret), where
// (workspace, resource), what (method), the outcome code and the request id.
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { Interceptor } from "@connectrpc/connect";
import { codeNameOf } from "./code-name.js";
import { callIdentityKey, type CallIdentity } from "../auth/principal.js";
import type { AuditDomain, AuditRow } from "../domain/audit/index.js";
import type { Logger } from "../logger.js";
import { PUBLIC_SERVICES } from "./auth.js";
import { requestIdOf } from "./request-id.js";

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
  return (next) => async (req) => {
    const identity: CallIdentity = {};
    req.contextValues.set(callIdentityKey, identity);
    const mutating = !req.stream && !PUBLIC_SERVICES.has(req.service.typeName) && req.method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
    if (!mutating) return next(req);
    const resource = resourceOf(req.message).slice(0, 1024);
    const row = (code: string): AuditRow => {
      const p = identity.principal;
      return {
        workspace: workspaceOf(resource) || (p?.workspace ?? ""),
        user: p?.user ?? "",
        accessKeyId: p?.keyId ?? "",
        method: `${req.service.typeName}/${req.method.name}`,
        resource,
        code,
        requestId: requestIdOf(req),
      };
    };
    // Mutations write the "ok" row inside their own transaction through this
    // hook; whatever did not (and every failure) is written here.
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
      await record(codeNameOf(err));
      throw err;
    }
  };
}
