// The plain-HTTP byte paths, beside the RPCs on the same port (see
// file-urls.ts for the URLs). Plain Node HTTP moves bytes several times
// faster than Connect's framing, so this is what the SDK and CLI use.
//
//   PUT  /v1/uploads/{upload}  Content-Range: bytes a-b/size   -> UploadSession JSON
//   GET  /v1/blobs/{sha256}/{name}  Range, If-None-Match, If-Range -> the bytes
//
// Errors are JSON like Connect's ({"code", "message", "reason", "metadata"})
// with the HTTP status a plain client expects (409 wrong offset, 413 chunk
// too large, 416 bad range, 429 with Retry-After, 403 bad or expired URL).
import { randomUUID } from "node:crypto";
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { pipeline } from "node:stream/promises";
import { toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { UploadSessionSchema } from "@modelreg/proto";
import { SignedUrlError } from "../auth/errors.js";
import { ResourceExhaustedError } from "../domain/ports/limiter.js";
import type { UrlSigner } from "../auth/signed-urls.js";
import { heldBy } from "../domain/files/blob-holdings.js";
import { DomainError, NotFoundError } from "../domain/shared/errors.js";
import type { UploadSessionsDomain } from "../domain/files/upload-sessions.js";
import { ChunkTooLargeError } from "../domain/files/upload-sessions.js";
import { codeName } from "../interceptors/code-name.js";
import { toConnectError } from "../interceptors/errors.js";
import type { Logger } from "../logger.js";
import { uploadToProto } from "../convert/uploads.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { OffsetMismatchError } from "../domain/ports/blob-store-errors.js";
import type { Database } from "@modelreg/db";
import { ARCHIVE_TYPES } from "../exports/archive.js";
import { BLOB_PREFIX, baseUrlOf, type FileUrls, UPLOAD_PREFIX } from "./file-urls.js";
import { parseContentRange, parseRange } from "./range.js";

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

export interface FileRoutesDeps {
  db: Database;
  store: BlobStore;
  uploads: UploadSessionsDomain;
  signer: UrlSigner;
  urls: (base: string) => FileUrls;
  publicUrl?: string;
  logger: Logger;
}

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

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: Code,
    message: string,
  ) {
    super(message);
  }
}

/** A handler for the byte paths; returns false for any other request. */
export function createFileRoutes(deps: FileRoutesDeps): (req: Req, res: Res) => boolean {
  const { store, signer, logger } = deps;

  function sendError(res: Res, err: unknown, requestId: string): void {
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
      return;
    }
    const text = JSON.stringify(body);
    res.statusCode = status;
    res.setHeader("content-type", "application/json");
    res.setHeader("content-length", Buffer.byteLength(text));
    res.setHeader("x-request-id", requestId);
    res.end(text);
  }

  async function upload(req: Req, res: Res, url: URL): Promise<void> {
    if (req.method !== "PUT") throw new HttpError(405, Code.InvalidArgument, `use PUT to send bytes to an upload URL, not ${req.method}`);
    const signed = signer.verify(url, "PUT");
    const id = url.pathname.slice(UPLOAD_PREFIX.length);
    if (id !== signed.object) throw new SignedUrlError("BAD_SIGNATURE");
    const scope = { workspace: signed.workspace };
    const target = { workspace: signed.workspace, id };
    const header = req.headers["content-range"];
    const length = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
    let offset = 0;
    let total: number | undefined;
    if (typeof header === "string") {
      const range = parseContentRange(header);
      if ("error" in range) throw new HttpError(400, Code.InvalidArgument, range.error);
      if (range.kind === "query") {
        const session = await deps.uploads.get(scope, `workspaces/${target.workspace}/uploads/${id}`);
        if (range.total !== session.size)
          throw new HttpError(400, Code.InvalidArgument, `the content was declared as ${range.total} bytes, but the upload session expects ${session.size}`);
        return sendSession(req, res, session);
      }
      if (length !== undefined && length !== range.end - range.start)
        throw new HttpError(400, Code.InvalidArgument, `Content-Length ${length} does not match Content-Range ${header} (${range.end - range.start} bytes)`);
      offset = range.start;
      total = range.total;
    }
    // The session is read once, by write(), which also checks the declared total.
    const session = await deps.uploads.write(scope, target, offset, req, { totalSize: total });
    sendSession(req, res, session);
  }

  function sendSession(req: Req, res: Res, session: Awaited<ReturnType<UploadSessionsDomain["get"]>>): void {
    const urls = deps.urls(baseUrlOf(deps.publicUrl, req.headers.host ?? (req.headers[":authority"] as string | undefined)));
    const text = JSON.stringify(toJson(UploadSessionSchema, uploadToProto(session, urls)));
    res.statusCode = 200;
    res.setHeader("content-type", "application/json");
    res.setHeader("content-length", Buffer.byteLength(text));
    res.end(text);
  }

  async function download(req: Req, res: Res, url: URL): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, Code.InvalidArgument, `use GET or HEAD on a download URL, not ${req.method}`);
    const signed = signer.verify(url, "GET");
    const rest = url.pathname.slice(BLOB_PREFIX.length);
    const slash = rest.indexOf("/");
    const sha256 = slash < 0 ? rest : rest.slice(0, slash);
    if (sha256 !== signed.object) throw new SignedUrlError("BAD_SIGNATURE");
    const name = slash < 0 ? sha256 : decodeURIComponent(rest.slice(slash + 1));
    const notFound = () => new NotFoundError("file", `with sha256 ${sha256} (the version holding it was deleted or overwritten)`);
    if (!(await heldBy(deps.db, signed.workspace, [sha256])).has(sha256)) throw notFound();
    const info = await store.has(sha256);
    if (!info) throw notFound();
    const size = info.size;
    const etag = `"${sha256}"`;
    res.setHeader("etag", etag);
    res.setHeader("accept-ranges", "bytes");
    res.setHeader("cache-control", "private, max-age=3600, immutable");
    res.setHeader("repr-digest", `sha-256=:${Buffer.from(sha256, "hex").toString("base64")}:`);
    res.setHeader("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(name)}`);
    res.setHeader("content-type", mediaTypeOf(name));
    const inm = req.headers["if-none-match"];
    if (typeof inm === "string" && inm.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
      res.statusCode = 304;
      res.end();
      return;
    }
    const ifRange = req.headers["if-range"];
    const wanted = typeof ifRange === "string" && ifRange.trim() !== etag ? undefined : parseRange(req.headers.range, size);
    if (wanted === "unsatisfiable") {
      res.statusCode = 416;
      res.setHeader("content-range", `bytes */${size}`);
      res.end();
      return;
    }
    const slice = wanted ?? { start: 0, end: size };
    res.statusCode = wanted ? 206 : 200;
    if (wanted) res.setHeader("content-range", `bytes ${slice.start}-${slice.end - 1}/${size}`);
    res.setHeader("content-length", slice.end - slice.start);
    if (req.method === "HEAD" || slice.end === slice.start) {
      res.end();
      return;
    }
    const stream = await store.get(sha256, { offset: slice.start, length: slice.end - slice.start });
    await pipeline(stream, res as NodeJS.WritableStream);
  }

  return (req, res) => {
    const raw = req.url ?? "";
    if (!raw.startsWith(UPLOAD_PREFIX) && !raw.startsWith(BLOB_PREFIX)) return false;
    const started = performance.now();
    const requestId = randomUUID();
    let url: URL;
    try {
      url = new URL(raw, "http://modelreg.invalid");
    } catch {
      sendError(res, new HttpError(400, Code.InvalidArgument, "the request URL is malformed"), requestId);
      return true;
    }
    const route = url.pathname.startsWith(UPLOAD_PREFIX) ? upload : download;
    route(req, res, url)
      .catch((err: unknown) => sendError(res, err, requestId))
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

/** The media type a download is served with: archives by their extension, anything else as bytes. */
function mediaTypeOf(name: string): string {
  const type = Object.values(ARCHIVE_TYPES).find((t) => name.endsWith(t.extension));
  return type?.mediaType ?? "application/octet-stream";
}
