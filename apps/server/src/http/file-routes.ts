// The plain-HTTP byte paths, beside the RPCs on the same port (see
// file-urls.ts for the URLs). Plain Node HTTP moves bytes several times
// faster than Connect's framing, so this is what the SDK and CLI use.
//
//   PUT  /v1/uploads/{upload}  Content-Range: bytes a-b/size   -> UploadSession JSON (upload-route.ts)
//   GET  /v1/blobs/{sha256}/{name}  Range, If-None-Match, If-Range -> the bytes (download-route.ts)
//
// Errors are JSON like Connect's ({"code", "message", "reason", "metadata"})
// with the HTTP status a plain client expects (409 wrong offset, 413 chunk
// too large, 416 bad range, 429 with Retry-After, 403 bad or expired URL);
// see file-route-errors.ts.
import { randomUUID } from "node:crypto";
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import type { Logger } from "../logger.js";
import { download, type DownloadRouteDeps } from "./download-route.js";
import { HttpError, sendError } from "./file-route-errors.js";
import { BLOB_PREFIX, UPLOAD_PREFIX } from "./file-urls.js";
import { upload, type UploadRouteDeps } from "./upload-route.js";

export type Req = http.IncomingMessage | http2.Http2ServerRequest;
export type Res = http.ServerResponse | http2.Http2ServerResponse;

export interface FileRoutesDeps extends UploadRouteDeps, DownloadRouteDeps {
  logger: Logger;
}

/** A handler for the byte paths; returns false for any other request. */
export function createFileRoutes(deps: FileRoutesDeps): (req: Req, res: Res) => boolean {
  const { logger } = deps;
  return (req, res) => {
    const raw = req.url ?? "";
    if (!raw.startsWith(UPLOAD_PREFIX) && !raw.startsWith(BLOB_PREFIX)) return false;
    const started = performance.now();
    const requestId = randomUUID();
    let url: URL;
    try {
      url = new URL(raw, "http://modelreg.invalid");
    } catch {
      sendError(res, new HttpError(400, Code.InvalidArgument, "the request URL is malformed"), requestId, logger);
      return true;
    }
    const route = url.pathname.startsWith(UPLOAD_PREFIX) ? upload : download;
    route(deps, req, res, url)
      .catch((err: unknown) => sendError(res, err, requestId, logger))
      .finally(() => {
        // The query holds the signature: log the path only.
        logger.info(
          { method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - started), requestId },
          "http",
        );
      });
    return true;
  };
}
