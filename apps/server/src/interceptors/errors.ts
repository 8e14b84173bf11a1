// The one place domain errors become Connect errors. Every error leaves with
// a google.rpc.ErrorInfo detail; invalid arguments also with a
// google.rpc.BadRequest naming each bad field. Unknown errors become Internal
// with the request id and are logged; their text (SQL, stack) never leaves.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "@modelreg/proto";
import type { Logger } from "pino";
import { isUnavailable } from "../domain/db-errors.js";
import {
  AlreadyExistsError,
  DomainError,
  EtagMismatchError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
} from "../domain/errors.js";
import { ResourceExhaustedError } from "../auth/errors.js";
import { requestIdOf } from "./request-id.js";

/** google.rpc.ErrorInfo domain of every modelreg error. */
export const ERROR_DOMAIN = "modelreg.dev";

function codeOf(e: DomainError): Code {
  if (e instanceof InvalidArgumentError) return Code.InvalidArgument;
  if (e instanceof NotFoundError) return Code.NotFound;
  if (e instanceof AlreadyExistsError) return Code.AlreadyExists;
  if (e instanceof EtagMismatchError) return Code.Aborted;
  if (e instanceof FailedPreconditionError) return Code.FailedPrecondition;
  if (e instanceof UnavailableError) return Code.Unavailable;
  if (e instanceof UnauthenticatedError) return Code.Unauthenticated;
  if (e instanceof PermissionDeniedError) return Code.PermissionDenied;
  if (e instanceof ResourceExhaustedError) return Code.ResourceExhausted;
  return Code.Internal;
}

function info(reason: string, metadata: Record<string, string>) {
  return { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, domain: ERROR_DOMAIN, metadata }) };
}

export function toConnectError(err: unknown, requestId: string, logger: Logger): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof DomainError) {
    const details = [info(err.reason, err.metadata)];
    if (err instanceof InvalidArgumentError)
      details.push({
        desc: BadRequestSchema,
        value: create(BadRequestSchema, { fieldViolations: err.violations.map((v) => ({ field: v.field, description: v.description })) }),
      } as never);
    if (err instanceof ResourceExhaustedError)
      details.push({
        desc: RetryInfoSchema,
        value: create(RetryInfoSchema, { retryDelay: { seconds: BigInt(Math.floor(err.retryAfterMs / 1000)), nanos: (err.retryAfterMs % 1000) * 1_000_000 } }),
      } as never);
    return new ConnectError(err.message, codeOf(err), new Headers({ "x-request-id": requestId }), details);
  }
  if (isUnavailable(err)) {
    logger.warn({ err, requestId }, "database unavailable");
    return new ConnectError("the database is unavailable; retry shortly (a write cut off mid-commit may or may not have been applied)", Code.Unavailable, new Headers({ "x-request-id": requestId }), [
      info("DATABASE_UNAVAILABLE", { request_id: requestId }),
    ]);
  }
  logger.error({ err, requestId }, "internal error");
  return new ConnectError(`internal error (request id ${requestId}); this is a bug in modelreg, please report it with the request id`, Code.Internal, new Headers({ "x-request-id": requestId }), [
    info("INTERNAL", { request_id: requestId }),
  ]);
}

export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      throw toConnectError(err, requestIdOf(req), logger);
    }
  };
}
