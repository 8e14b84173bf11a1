// PUT /v1/uploads/{upload}  Content-Range: bytes a-b/size  -> UploadSession JSON
//
// Bytes for an upload session over plain HTTP; "bytes */size" asks where the
// session stands without sending any.
import { toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { UploadSessionSchema } from "@modelreg/proto";
import { SignedUrlError } from "../auth/errors.js";
import { uploadToProto } from "../convert/uploads.js";
import type { UploadSessionsDomain, UploadSessionView } from "../domain/files/index.js";
import { type ByteCall, countedBody } from "./byte-call.js";
import { HttpError } from "./file-route-errors.js";
import type { Req, Res } from "./file-routes.js";
import { baseUrlOf, type FileUrls, isTls, type SignedUrlCheck, UPLOAD_PREFIX } from "./file-urls.js";
import { parseContentRange } from "./range.js";

export interface UploadRouteDeps {
  uploads: UploadSessionsDomain;
  signer: SignedUrlCheck;
  urls: (base: string, accessKeyId?: string) => FileUrls;
  publicUrl?: string;
}

export async function upload(deps: UploadRouteDeps, req: Req, res: Res, url: URL, call: ByteCall): Promise<void> {
  if (req.method !== "PUT") throw new HttpError(405, Code.InvalidArgument, `use PUT to send bytes to an upload URL, not ${req.method}`);
  const signed = await deps.signer.verify(url, "PUT");
  const id = url.pathname.slice(UPLOAD_PREFIX.length);
  if (id !== signed.object) throw new SignedUrlError("BAD_SIGNATURE");
  call.keyId = signed.accessKeyId;
  const scope = { workspace: signed.workspace };
  const target = { workspace: signed.workspace, id };
  const header = req.headers["content-range"];
  const length = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
  let offset = 0;
  let total: number | undefined;
  let chunk: number | undefined;
  if (typeof header === "string") {
    const range = parseContentRange(header);
    if ("error" in range) throw new HttpError(400, Code.InvalidArgument, range.error);
    if (range.kind === "query") {
      const session = await deps.uploads.get(scope, `workspaces/${target.workspace}/uploads/${id}`);
      if (range.total !== session.size)
        throw new HttpError(400, Code.InvalidArgument, `the content was declared as ${range.total} bytes, but the upload session expects ${session.size}`);
      return sendSession(deps, req, res, session, signed.accessKeyId);
    }
    if (length !== undefined && length !== range.end - range.start)
      throw new HttpError(400, Code.InvalidArgument, `Content-Length ${length} does not match Content-Range ${header} (${range.end - range.start} bytes)`);
    offset = range.start;
    total = range.total;
    chunk = range.end - range.start;
  }
  // The session is read once, by write(), which also checks the declared
  // total, and the body against the declared range: without Content-Length
  // (a chunked body) nothing else would.
  const session = await deps.uploads.write(scope, target, offset, countedBody(req, call), { totalSize: total, length: chunk });
  sendSession(deps, req, res, session, signed.accessKeyId);
}

/** The session, with a new upload URL issued to the same access key as the one used. */
function sendSession(deps: UploadRouteDeps, req: Req, res: Res, session: UploadSessionView, accessKeyId: string | undefined): void {
  const urls = deps.urls(baseUrlOf(deps.publicUrl, req.headers.host ?? (req.headers[":authority"] as string | undefined), isTls(req)), accessKeyId);
  const text = JSON.stringify(toJson(UploadSessionSchema, uploadToProto(session, urls)));
  res.statusCode = 200;
  res.setHeader("content-type", "application/json");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}
