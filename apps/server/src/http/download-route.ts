// GET|HEAD /v1/blobs/{sha256}/{name}  Range, If-None-Match, If-Range -> the bytes
//
// Content the URL's workspace holds, served with its digest as the etag;
// a bad range answers 416.
import { pipeline } from "node:stream/promises";
import { Code } from "@connectrpc/connect";
import { SignedUrlError } from "../auth/errors.js";
import type { FilesDomain } from "../domain/files/index.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { NotFoundError } from "../domain/shared/errors.js";
import { ARCHIVE_TYPES } from "../exports/archive.js";
import { type ByteCall, countingStream } from "./byte-call.js";
import { HttpError } from "./file-route-errors.js";
import type { Req, Res } from "./file-routes.js";
import { BLOB_PREFIX, type SignedUrlCheck } from "./file-urls.js";
import { parseRange } from "./range.js";

export interface DownloadRouteDeps {
  files: Pick<FilesDomain, "holds">;
  store: BlobStore;
  signer: SignedUrlCheck;
}

export async function download(deps: DownloadRouteDeps, req: Req, res: Res, url: URL, call: ByteCall): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, Code.InvalidArgument, `use GET or HEAD on a download URL, not ${req.method}`);
  const signed = await deps.signer.verify(url, "GET");
  const rest = url.pathname.slice(BLOB_PREFIX.length);
  const slash = rest.indexOf("/");
  const sha256 = slash < 0 ? rest : rest.slice(0, slash);
  if (sha256 !== signed.object) throw new SignedUrlError("BAD_SIGNATURE");
  call.keyId = signed.accessKeyId;
  const name = slash < 0 ? sha256 : decodeURIComponent(rest.slice(slash + 1));
  const notFound = () => new NotFoundError("file", `with sha256 ${sha256} (the version, export or task holding it was deleted, or the version overwritten)`);
  if (!(await deps.files.holds(signed.workspace, sha256))) throw notFound();
  const info = await deps.store.has(sha256);
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
  const stream = await deps.store.get(sha256, { offset: slice.start, length: slice.end - slice.start });
  await pipeline(stream, countingStream(call), res as NodeJS.WritableStream);
}

/** The media type a download is served with: archives by their extension, anything else as bytes. */
function mediaTypeOf(name: string): string {
  const type = Object.values(ARCHIVE_TYPES).find((t) => name.endsWith(t.extension));
  return type?.mediaType ?? "application/octet-stream";
}
