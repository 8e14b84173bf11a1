// CORS for browser pages on other origins (CORS_ORIGINS; off when unset):
// the RPCs (Connect and gRPC-Web, through @connectrpc/connect-web) and the
// signed byte routes (PUT /v1/uploads/…, GET /v1/blobs/… with Range).
//
//   - A request without Origin, or with CORS off, is left alone: no headers.
//   - An allowed origin gets Access-Control-Allow-Origin (the origin itself,
//     with Vary: Origin; `*` when every origin is allowed) and the response
//     headers a page may read (Connect's and gRPC-Web's, the byte routes').
//   - A preflight (OPTIONS with Access-Control-Request-Method) from an
//     allowed origin is answered here with 204 and the methods and headers
//     a client may send; from any other origin with 403 and a message
//     naming CORS_ORIGINS, and no CORS headers, so the browser refuses.
//   - A plain request from another origin still runs (the browser, not the
//     server, withholds the answer): it gets no CORS headers.
// Access keys travel in the Authorization header, never in cookies, so
// credentials are not allowed (and `*` is safe to send as it is).
import { cors as connectCors } from "@connectrpc/connect";

/** What withCors reads of a request and writes on a response (HTTP/1.1 and HTTP/2 alike). */
interface CorsRequest {
  method?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}
interface CorsResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(data: string): unknown;
}

/** The origins allowed, as CORS_ORIGINS gives them: exact origins, or "*" for every one. */
export type CorsOrigins = readonly string[] | "*";

export const ALLOWED_METHODS = [...new Set([...connectCors.allowedMethods, "GET", "HEAD", "POST", "PUT"])];

/** Connect's and gRPC-Web's request headers, the access key, and the byte routes' (uploads: Content-Range; downloads: Range and its conditions). */
export const ALLOWED_HEADERS = [
  ...new Set([...connectCors.allowedHeaders, "authorization", "content-range", "range", "if-range", "if-none-match", "if-match", "x-request-id"].map((h) => h.toLowerCase())),
];

/** Response headers a page may read: Connect's and gRPC-Web's, the request id, Retry-After, and the byte routes' (size, range, etag, digest, name). */
export const EXPOSED_HEADERS = [
  ...new Set(
    [
      ...connectCors.exposedHeaders,
      "grpc-status",
      "grpc-message",
      "grpc-status-details-bin",
      "x-request-id",
      "retry-after",
      "content-length",
      "content-range",
      "accept-ranges",
      "etag",
      "repr-digest",
      "content-disposition",
    ].map((h) => h.toLowerCase()),
  ),
];

/** How long a browser may keep a preflight's answer, in seconds (Chromium keeps at most 2 hours). */
export const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/** `handler` behind the CORS rules for `origins`; `handler` itself when CORS is off. */
export function withCors<Q extends CorsRequest, S extends CorsResponse>(handler: (req: Q, res: S) => void, origins: CorsOrigins | undefined): (req: Q, res: S) => void {
  if (origins === undefined) return handler;
  const any = origins === "*";
  const allowed = new Set(any ? [] : origins);
  return (req, res) => {
    const origin = header(req.headers.origin);
    if (origin === undefined) return handler(req, res);
    const ok = any || allowed.has(origin);
    const preflight = req.method === "OPTIONS" && header(req.headers["access-control-request-method"]) !== undefined;
    if (!any) res.setHeader("vary", "Origin");
    if (preflight) {
      if (!ok) {
        const text = JSON.stringify({
          code: "permission_denied",
          message: `origin ${origin} may not call this server from a browser: it is not in the server's CORS_ORIGINS`,
        });
        res.statusCode = 403;
        res.setHeader("content-type", "application/json");
        res.setHeader("content-length", String(Buffer.byteLength(text)));
        res.end(text);
        return;
      }
      res.statusCode = 204;
      res.setHeader("access-control-allow-origin", any ? "*" : origin);
      res.setHeader("access-control-allow-methods", ALLOWED_METHODS.join(", "));
      res.setHeader("access-control-allow-headers", ALLOWED_HEADERS.join(", "));
      res.setHeader("access-control-max-age", String(PREFLIGHT_MAX_AGE_SECONDS));
      res.setHeader("content-length", "0");
      res.end("");
      return;
    }
    if (ok) {
      res.setHeader("access-control-allow-origin", any ? "*" : origin);
      res.setHeader("access-control-expose-headers", EXPOSED_HEADERS.join(", "));
    }
    handler(req, res);
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
