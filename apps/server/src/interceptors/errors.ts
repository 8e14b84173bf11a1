// The one place domain errors become Connect errors. Every error leaves with
// a google.rpc.ErrorInfo detail; invalid arguments also with a
// google.rpc.BadRequest naming each bad field. Unknown errors become Internal
// with the request id and are logged; their text (SQL, stack) never leaves.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "@modelreg/proto";
import type { Logger } from "pino";
import { isUnavailable } from "../domain/shared/db-errors.js";
import {
  AlreadyExistsError,
  DomainError,
  EtagMismatchError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
} from "../domain/shared/errors.js";
import { ResourceExhaustedError } from "../domain/ports/limiter.js";
import { madeOnce } from "./made-once.js";
import { requestIdOf } from "./request-id.js";

/** One error detail as ConnectError takes it (Connect-ES does not export the type). */
type OutgoingDetail = NonNullable<ConstructorParameters<typeof ConnectError>[3]>[number];

/** google.rpc.ErrorInfo domain of every modelreg error. */
export const ERROR_DOMAIN = "modelreg.dev";

function codeOf(e: DomainError): Code {
  if (e instanceof InvalidArgumentError) return Code.InvalidArgument;
  if (e instanceof NotFoundError) return Code.NotFound;
  if (e instanceof AlreadyExistsError) return Code.AlreadyExists;
  if (e instanceof EtagMismatchError) return Code.Aborted;
  if (e instanceof FailedPreconditionError) return Code.FailedPrecondition;
  if (e instanceof UnauthenticatedError) return Code.Unauthenticated;
  if (e instanceof PermissionDeniedError) return Code.PermissionDenied;
  if (e instanceof ResourceExhaustedError) return Code.ResourceExhausted;
  return Code.Internal;
}

function info(reason: string, metadata: Record<string, string>): OutgoingDetail {
  return { desc: ErrorInfoSchema, value: { reason, domain: ERROR_DOMAIN, metadata } };
}

/** google.rpc details beyond ErrorInfo: the bad fields, or when to retry. */
function extraDetails(err: DomainError): OutgoingDetail[] {
  if (err instanceof InvalidArgumentError)
    return [{ desc: BadRequestSchema, value: { fieldViolations: err.violations.map((v) => ({ field: v.field, description: v.description })) } }];
  if (err instanceof ResourceExhaustedError) {
    const ms = err.retryAfterMs;
    return [{ desc: RetryInfoSchema, value: { retryDelay: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 } } }];
  }
  return [];
}

/**
 * Why a call whose signal fired ended, when its client went away (it
 * disconnected, reset its stream or cancelled): Canceled. A deadline that
 * passed keeps its own code. Whatever the handler then threw (a write to a
 * closed stream, a read of a body cut short) is the consequence, not a fault.
 */
export function clientGoneError(signal: AbortSignal | undefined): ConnectError | undefined {
  if (!signal?.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (reason instanceof ConnectError && reason.code === Code.DeadlineExceeded) return undefined;
  return new ConnectError("the client cancelled the call or went away", Code.Canceled);
}

/**
 * An outcome the domain chose (not found, a refusal, a conflict), which
 * stands even when nobody hears it. Anything else after the client left
 * (Connect's errors of a stream cut mid-message, a write to a closed
 * response, a body cut short) is the consequence of its leaving.
 */
function isDeliberate(err: unknown): boolean {
  return err instanceof DomainError;
}

/** `err` as the ConnectError a client gets; `signal` is the call's, which tells a client that went away. */
export function toConnectError(err: unknown, requestId: string, logger: Logger, signal?: AbortSignal): ConnectError {
  const gone = clientGoneError(signal);
  if (gone && !isDeliberate(err)) return gone;
  if (err instanceof ConnectError) return err;
  const error = (message: string, code: Code, details: OutgoingDetail[]) =>
    new ConnectError(message, code, new Headers({ "x-request-id": requestId }), details);
  if (err instanceof DomainError) return error(err.message, codeOf(err), [info(err.reason, err.metadata), ...extraDetails(err)]);
  if (isUnavailable(err)) {
    logger.warn({ err, requestId }, "database unavailable");
    return error("the database is unavailable; retry shortly (a write cut off mid-commit may or may not have been applied)", Code.Unavailable, [
      info("DATABASE_UNAVAILABLE", { request_id: requestId }),
    ]);
  }
  logger.error({ err, requestId }, "internal error");
  return error(`internal error (request id ${requestId}); this is a bug in modelreg, please report it with the request id`, Code.Internal, [
    info("INTERNAL", { request_id: requestId }),
  ]);
}

/**
 * A request message that is not valid protobuf binary of its type (cut
 * short, a string that is not UTF-8, a bad tag): the caller's mistake, so
 * InvalidArgument. Connect itself reports it as Internal ("parse binary:").
 */
export function malformedMessageError(typeName: string, reason: string, requestId: string): ConnectError {
  return new ConnectError(
    `the request body is not a valid ${typeName} message in the protobuf binary format (${reason}); check that the client sends the message of this RPC, whole`,
    Code.InvalidArgument,
    new Headers({ "x-request-id": requestId }),
    [info("MALFORMED_MESSAGE", { message_type: typeName, request_id: requestId })],
  );
}

const PARSE_BINARY = "parse binary: ";

/** Connect's error for a request message it could not parse from binary. */
function isParseError(err: unknown): err is ConnectError {
  return err instanceof ConnectError && err.code === Code.Internal && err.rawMessage.startsWith(PARSE_BINARY);
}

/** The messages of a client stream, with parse errors as malformedMessageError (unary bodies: message-check.ts). */
async function* checkedMessages<T>(messages: AsyncIterable<T>, typeName: string, requestId: () => string): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    if (isParseError(err)) throw malformedMessageError(typeName, err.rawMessage.slice(PARSE_BINARY.length), requestId());
    throw err;
  }
}

export function errorInterceptor(logger: Logger): Interceptor {
  return madeOnce(async (req, next) => {
    let res: Awaited<ReturnType<typeof next>>;
    if (req.stream) req = { ...req, message: checkedMessages(req.message, req.method.input.typeName, () => requestIdOf(req)) };
    try {
      res = await next(req);
    } catch (err) {
      throw toConnectError(err, requestIdOf(req), logger, req.signal);
    }
    if (!res.stream) return res;
    // A streaming handler throws while its messages are read: map those too.
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* messages;
        } catch (err) {
          throw toConnectError(err, requestIdOf(req), logger, req.signal);
        }
      })(),
    };
  });
}
