// Who is calling: resolved once per call by the auth interceptor and handed
// to handlers through the call's context values.
import { createContextKey } from "@connectrpc/connect";
import { Role } from "@modelreg/proto";
import type { AuditHook } from "../domain/shared/scope.js";

export interface Principal {
  user: string;
  /** Key id; "" with AUTH=off. */
  keyId: string;
  /** The key's workspace; null for the server-wide admin key (and AUTH=off). */
  workspace: string | null;
  role: Role;
  expireTime: Date | null;
}

/** With AUTH=off every call acts as this. */
export const ANONYMOUS_ADMIN: Principal = { user: "", keyId: "", workspace: null, role: Role.ADMIN, expireTime: null };

/**
 * A per-call slot the auth interceptor fills in; the audit interceptor reads
 * it after the call, whatever the outcome.
 */
export interface CallIdentity {
  principal?: Principal;
  /** The call's audit hook, when the call is audited (a mutation). */
  audit?: AuditHook;
}

export const callIdentityKey = createContextKey<CallIdentity | undefined>(undefined, { description: "modelreg call identity" });

/** The caller's network address, set per request by the HTTP adapter (app.ts); unset in-process. */
export const peerAddressKey = createContextKey<string | undefined>(undefined, { description: "modelreg peer address" });


/**
 * Whether `p` has at least `required`. ROLE_SERVER_ADMIN needs an admin key
 * bound to no workspace. A worker key may do worker calls and nothing else;
 * editors and admins may do worker calls too.
 */
export function hasRole(p: Principal, required: Role): boolean {
  if (required === Role.SERVER_ADMIN) return p.workspace === null && p.role === Role.ADMIN;
  if (p.role === Role.WORKER) return required === Role.WORKER;
  if (required === Role.WORKER) return p.role >= Role.EDITOR;
  return p.role >= required;
}

export function roleName(role: Role): string {
  return (Role[role] ?? "UNSPECIFIED").toLowerCase().replace("_", "-");
}
