// Errors: every failed call rejects with a ConnectError whose `code` is the
// gRPC/Connect code. errorDetails() reads the structured details the server
// attaches (google.rpc.ErrorInfo and BadRequest).
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@modelreg/proto";
import { unhintedMessages } from "./access-key-hint.js";

export { Code, ConnectError };

/** google.rpc.ErrorInfo domain of modelreg's errors, the server's and the clients' alike. */
export const ERROR_DOMAIN = "modelreg.dev";

/**
 * An error the client finds by itself, shaped like the server's: a code and
 * an ErrorInfo with a stable `reason`, so errorDetails() and scripts read
 * both the same way.
 */
export function clientError(message: string, code: Code, reason: string, metadata: Record<string, string> = {}): ConnectError {
  return new ConnectError(message, code, undefined, [{ desc: ErrorInfoSchema, value: { reason, domain: ERROR_DOMAIN, metadata } }]);
}

export interface ErrorDetails {
  code: Code;
  /** The Connect code name, e.g. "not_found". */
  codeName: string;
  /** The server's message (without a hint the SDK added to the error's own message). */
  message: string;
  /** Stable machine-readable reason, e.g. ETAG_MISMATCH. */
  reason: string | undefined;
  metadata: Record<string, string>;
  /** One entry per bad field, for InvalidArgument. */
  fieldViolations: { field: string; description: string }[];
}

/** Code names as Connect writes them (snake_case). */
export function codeName(code: Code): string {
  return Code[code]?.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase() ?? "unknown";
}

export function errorDetails(err: unknown): ErrorDetails {
  const e = ConnectError.from(err);
  const info = e.findDetails(ErrorInfoSchema)[0];
  const bad = e.findDetails(BadRequestSchema)[0];
  return {
    code: e.code,
    codeName: codeName(e.code),
    message: unhintedMessages.get(e) ?? e.rawMessage,
    reason: info?.reason,
    metadata: { ...(info?.metadata ?? {}) },
    fieldViolations: (bad?.fieldViolations ?? []).map((v) => ({ field: v.field, description: v.description })),
  };
}
