// Authentication and authorisation of every call. The least role each RPC
// needs is stated in the contract (`option (modelreg.v1.required_role)`), so
// a new RPC without one is refused rather than left open. gRPC health and
// reflection are the only services that need no key.
import { getOption, hasOption } from "@bufbuild/protobuf";
import type { DescMethod } from "@bufbuild/protobuf";
import type { HandlerContext, Interceptor } from "@connectrpc/connect";
import { Role, required_role } from "@modelreg/proto";
import { ResourceExhaustedError } from "../domain/ports/limiter.js";
import type { Authenticator } from "../auth/authenticator.js";
import { bearerOf } from "../auth/keys.js";
import { ANONYMOUS_ADMIN, callIdentityKey, hasRole, peerAddressKey, roleName, type Principal } from "../auth/principal.js";
import type { RateLimiter } from "../auth/rate-limit.js";
import { PermissionDeniedError } from "../domain/shared/errors.js";
import type { Scope } from "../domain/shared/scope.js";
import { madeOnce } from "./made-once.js";

/** Services anyone may call without a key. */
export const PUBLIC_SERVICES = new Set(["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);

// Reading an option decodes the method's options each time, on every call:
// remember the answer per method.
const roles = new WeakMap<DescMethod, Role | undefined>();

/** The role an RPC needs, or undefined when its contract states none. */
export function requiredRole(method: DescMethod): Role | undefined {
  if (roles.has(method)) return roles.get(method);
  const role = hasOption(method, required_role) ? getOption(method, required_role) : Role.UNSPECIFIED;
  const required = role === Role.UNSPECIFIED ? undefined : role;
  roles.set(method, required);
  return required;
}

export interface AuthOptions {
  /** false = AUTH=off: every call acts as an anonymous server-wide admin. */
  enabled: boolean;
  authenticator: Authenticator;
  /** Per-key request rate; undefined = unlimited. */
  rateLimiter?: RateLimiter;
  ratePerSecond?: number;
}

function subject(p: Principal): string {
  return p.keyId ? `access key ${p.keyId} (${p.user}, ${roleName(p.role)}${p.workspace ? ` in workspaces/${p.workspace}` : ", server-wide"})` : "this caller";
}

export function authInterceptor(options: AuthOptions): Interceptor {
  return madeOnce(async (req, next) => {
    if (PUBLIC_SERVICES.has(req.service.typeName)) return next(req);
    const principal = options.enabled
      ? await options.authenticator.authenticate(bearerOf(req.header.get("authorization")), req.contextValues.get(peerAddressKey))
      : ANONYMOUS_ADMIN;
    const identity = req.contextValues.get(callIdentityKey);
    if (identity) identity.principal = principal;
    const rpc = `${req.service.typeName}/${req.method.name}`;
    const required = requiredRole(req.method);
    if (required === undefined) throw new PermissionDeniedError(`${rpc} states no required role in its contract, so the server refuses it`);
    if (!hasRole(principal, required)) {
      const needed =
        required === Role.SERVER_ADMIN ? "the server-wide admin key" : required === Role.WORKER ? "a worker, editor or admin key" : `the ${roleName(required)} role or higher`;
      throw new PermissionDeniedError(`${rpc} needs ${needed}; ${subject(principal)} does not have it`, { required_role: roleName(required) });
    }
    if (options.rateLimiter && principal.keyId) {
      const taken = options.rateLimiter.take(principal.keyId);
      if (!taken.ok) throw ResourceExhaustedError.rateLimited(`access key ${principal.keyId}`, options.ratePerSecond ?? 0, taken.retryAfterMs);
    }
    return next(req);
  });
}

/** The caller's scope, with the call's audit hook, for handlers. */
export function callScope(ctx: HandlerContext): Scope {
  const identity = ctx.values.get(callIdentityKey);
  return { workspace: principalOf(ctx).workspace, audit: identity?.audit };
}

/** The caller, for handlers. Throws if the auth interceptor did not run (a wiring bug). */
export function principalOf(ctx: HandlerContext): Principal {
  const principal = ctx.values.get(callIdentityKey)?.principal;
  if (!principal) throw new Error("no principal on this call: the auth interceptor did not run");
  return principal;
}
