// Errors of the plain-HTTP byte paths: JSON like Connect's ({"code",
// "message", "reason", "metadata"}) with the HTTP status a plain client
// expects (409 wrong offset, 413 chunk too large, 429 with Retry-After, 403
// bad or expired URL).
import { Code } from "@connectrpc/connect";
import { SignedUrlError } from "../auth/errors.js";
import { ChunkTooLargeError } from "../domain/files/index.js";
import { OffsetMismatchError } from "../domain/ports/blob-store-errors.js";
import { ResourceExhaustedError } from "../domain/ports/limiter.js";
import { DomainError } from "../domain/shared/errors.js";
import { codeName } from "../interceptors/code-name.js";
import { toConnectError } from "../interceptors/errors.js";
import type { Logger } from "../logger.js";
import type { Res } from "./file-routes.js";

const STATUS: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.FailedPrecondition]: 409,
  [Code.Aborted]: 409,
  [Code.ResourceExhausted]: 429,
  [Code.Unavailable]: 503,
};

/** A refusal of the byte paths themselves (method, headers, URL), with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: Code,
    message: string,
  ) {
    super(message);
  }
}

/** Answers with the error as JSON, or cuts the response off when its head is sent already; returns the code's name. */
export function sendError(res: Res, err: unknown, requestId: string, logger: Logger): string {
  let status: number;
  let body: Record<string, unknown>;
  if (err instanceof HttpError) {
    status = err.status;
    body = { code: codeName(err.code), message: err.message };
  } else if (err instanceof SignedUrlError) {
    status = 403;
    body = { code: "permission_denied", message: err.message, reason: `SIGNED_URL_${err.reason}` };
  } else {
    const ce = toConnectError(err, requestId, logger);
    status = err instanceof OffsetMismatchError ? 409 : err instanceof ChunkTooLargeError ? 413 : (STATUS[ce.code] ?? 500);
    body = { code: codeName(ce.code), message: ce.rawMessage };
    if (err instanceof DomainError) Object.assign(body, { reason: err.reason, metadata: err.metadata });
    if (err instanceof ResourceExhaustedError) res.setHeader("retry-after", String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
  }
  if (res.headersSent) {
    res.destroy();
    return body.code as string;
  }
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.setHeader("x-request-id", requestId);
  res.end(text);
  return body.code as string;
}
