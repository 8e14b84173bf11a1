// Plain-HTTP transfers over node:http / node:https (faster than fetch for
// large bodies): signed upload and download URLs, Content-Range and Range
// headers, and errors mapped back to ConnectError (the parts without Node
// are http-common.ts, shared with the browser entry).
import * as http from "node:http";
import * as https from "node:https";
import type { Readable } from "node:stream";
import { httpError } from "./http-common.js";

export { codeForStatus, contentRange, httpError, rangeHeader, resolveUrl } from "./http-common.js";

export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
}

/** Keep-alive agents for one client (chunked uploads reuse the connection); `tls` (e.g. a CA) for https. */
export function createAgents(tls: https.AgentOptions = {}): HttpAgents {
  return { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ ...tls, keepAlive: true }) };
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

/** Reads the body of a failed response and throws it as a ConnectError. */
export async function throwHttpError(res: http.IncomingMessage): Promise<never> {
  const body = await readText(res, 64 << 10).catch(() => "");
  throw httpError(res.statusCode ?? 0, res.headers, body);
}
