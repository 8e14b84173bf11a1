// The plain-HTTP byte paths as both clients see them (Node's http.ts, the
// browser's fetch): signed URLs, Content-Range and Range headers, and error
// answers mapped back to ConnectError. No node: module here.
import { Code, ConnectError } from "@connectrpc/connect";
import { errorFromJson } from "@connectrpc/connect/protocol-connect";

/** A signed URL from the server (absolute, or a path) against the client's base URL. */
export function resolveUrl(url: string, baseUrl: string): URL {
  if (url === "") throw new ConnectError("the server sent no URL for this transfer", Code.Internal);
  return new URL(url, baseUrl);
}

/** `bytes <first>-<last>/<size>` for the bytes [start, end) of a blob of `size`. */
export function contentRange(start: number, end: number, size: number): string {
  if (!(start >= 0 && end > start && end <= size)) throw new RangeError(`bad byte range [${start}, ${end}) of ${size}`);
  return `bytes ${start}-${end - 1}/${size}`;
}

/** `bytes=<first>-[<last>]` asking for [start, end) (end undefined = to the end). */
export function rangeHeader(start: number, end?: number): string {
  return `bytes=${start}-${end === undefined ? "" : end - 1}`;
}

/** The Connect code for an HTTP status when the body says nothing better. */
export function codeForStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.NotFound;
    case 409:
      return Code.FailedPrecondition;
    case 412:
      return Code.FailedPrecondition;
    case 413:
      return Code.ResourceExhausted;
    case 416:
      return Code.OutOfRange;
    case 429:
      return Code.ResourceExhausted;
    case 499:
      return Code.Canceled;
    case 501:
      return Code.Unimplemented;
    case 502:
    case 503:
    case 504:
      return Code.Unavailable;
    default:
      return status >= 500 ? Code.Internal : Code.Unknown;
  }
}

/** Response headers as Node gives them (an object) or fetch does (Headers). */
export type ResponseHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * An error response as a ConnectError: the Connect JSON error body
 * (`{"code", "message", "details"}`, details kept for errorDetails()) when
 * there is one, else the code for the status. Response headers (e.g.
 * Retry-After) become the error's metadata.
 */
export function httpError(status: number, headers: ResponseHeaders, body: string): ConnectError {
  const metadata = new Headers();
  const entries: Iterable<[string, string | string[] | undefined]> = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [k, v] of entries) if (v !== undefined) metadata.set(k, Array.isArray(v) ? v.join(", ") : String(v));
  const fallback = new ConnectError(`HTTP ${status}${body.trim() ? `: ${body.trim().slice(0, 200)}` : ""}`, codeForStatus(status), metadata);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return fallback;
  }
  try {
    return errorFromJson(json as never, metadata, fallback);
  } catch {
    return fallback;
  }
}
