// Plain-HTTP transfers over node:http / node:https (faster than fetch for
// large bodies): signed upload and download URLs, Content-Range and Range
// headers, and errors mapped back to ConnectError.
import * as http from "node:http";
import * as https from "node:https";
import type { Readable } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorFromJson } from "@connectrpc/connect/protocol-connect";

export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
}

/** Keep-alive agents for one client (chunked uploads reuse the connection). */
export function createAgents(): HttpAgents {
  return { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
}

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

export interface HttpRequest {
  url: URL;
  method: "GET" | "PUT" | "HEAD";
  headers?: http.OutgoingHttpHeaders;
  /** Streamed as the request body. */
  body?: Readable;
  agents: HttpAgents;
  signal?: AbortSignal;
}

/**
 * Sends the request; resolves with the response once its headers arrive
 * (the body is the caller's to read). Rejects on connection failure or
 * abort. A response that arrives before the whole body was sent (an early
 * error) still resolves.
 */
export function httpRequest(req: HttpRequest): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = req.url.protocol === "https:";
    const send = secure ? https.request : http.request;
    const r = send(req.url, {
      method: req.method,
      headers: req.headers,
      agent: secure ? req.agents.https : req.agents.http,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    let answered = false;
    r.on("error", (err) => {
      if (!answered) reject(err);
    });
    r.on("response", (res) => {
      answered = true;
      // An early answer (an error before the whole body was sent): the
      // request cannot finish, so its connection is not reused.
      res.on("end", () => {
        if (!r.writableFinished) r.destroy();
      });
      resolve(res);
    });
    if (req.body) {
      req.body.on("error", (err) => r.destroy(err));
      req.body.pipe(r);
    } else r.end();
  });
}

/** Reads a (small) response body to the end as text, at most `limit` bytes kept. */
export async function readText(res: http.IncomingMessage, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    if (size < limit) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).toString("utf8");
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

/**
 * An error response as a ConnectError: the Connect JSON error body
 * (`{"code", "message", "details"}`, details kept for errorDetails()) when
 * there is one, else the code for the status. Response headers (e.g.
 * Retry-After) become the error's metadata.
 */
export function httpError(status: number, headers: http.IncomingHttpHeaders, body: string): ConnectError {
  const metadata = new Headers();
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) metadata.set(k, Array.isArray(v) ? v.join(", ") : String(v));
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

/** Reads the body of a failed response and throws it as a ConnectError. */
export async function throwHttpError(res: http.IncomingMessage): Promise<never> {
  const body = await readText(res, 64 << 10).catch(() => "");
  throw httpError(res.statusCode ?? 0, res.headers, body);
}
