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
import { type ByteCall, clientWentAway } from "./byte-call.js";
import { HttpError, sendError } from "./file-route-errors.js";
import { BLOB_PREFIX, UPLOAD_PREFIX } from "./file-urls.js";
import { upload, type UploadRouteDeps } from "./upload-route.js";

export type Req = http.IncomingMessage | http2.Http2ServerRequest;
export type Res = http.ServerResponse | http2.Http2ServerResponse;

/** Told of the byte routes' traffic (the metrics). */
export interface ByteRouteObserver {
  /** Bytes received by an upload or sent by a download. */
  bytes(route: ByteRoute, n: number): void;
  /** A request ended: its code as the RPCs name them ("ok", "not_found", "canceled", ...). */
  finished(route: ByteRoute, code: string, seconds: number): void;
}

export type ByteRoute = "upload" | "download";

export interface FileRoutesDeps extends UploadRouteDeps, DownloadRouteDeps {
  logger: Logger;
  observer?: ByteRouteObserver;
}

/** HTTP status of a request whose client went away before its answer (nginx's "client closed request"). */
const CLIENT_CLOSED = 499;

/** A handler for the byte paths; returns false for any other request. */
export function createFileRoutes(deps: FileRoutesDeps): (req: Req, res: Res) => boolean {
  const { logger, observer } = deps;
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
    const name: ByteRoute = url.pathname.startsWith(UPLOAD_PREFIX) ? "upload" : "download";
    const route = name === "upload" ? upload : download;
    let moved = 0;
    const call: ByteCall = {
      bytes: (n) => {
        moved += n;
        observer?.bytes(name, n);
      },
    };
    let code: string | undefined;
    route(deps, req, res, url, call)
      .catch((err: unknown) => {
        // A client that went away is no error of the server's: nothing to answer, nothing to warn of.
        if (clientWentAway(req, res)) code = "canceled";
        else code = sendError(res, err, requestId, logger);
      })
      .finally(() => {
        const status = code === "canceled" ? CLIENT_CLOSED : res.statusCode;
        code ??= status < 400 ? "ok" : codeOfStatus(status);
        const ms = Math.round(performance.now() - started);
        observer?.finished(name, code, ms / 1000);
        // The query holds the signature: log the path only.
        logger.info(
          { method: req.method, path: url.pathname, status, code, ms, bytes: moved, keyId: call.keyId, peer: req.socket?.remoteAddress, requestId },
          "http",
        );
      });
    return true;
  };
}

/** The code of an answer the routes sent without an error (416 for a range past the end). */
function codeOfStatus(status: number): string {
  return status === 416 ? "out_of_range" : "unknown";
}
