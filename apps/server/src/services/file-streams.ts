// The FileService's streaming RPCs, which adapt messages to byte streams:
// WriteUpload turns a client stream into the bytes of one upload session,
// ReadFile cuts a stored blob into messages of READ_CHUNK_BYTES.
import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import {
  type ReadFileRequest,
  type ReadFileResponse,
  ReadFileResponseSchema,
  type WriteUploadRequest,
  type WriteUploadResponse,
  WriteUploadResponseSchema,
} from "@modelreg/proto";
import { parseUploadSessionName } from "../domain/files/index.js";
import { InvalidArgumentError } from "../domain/shared/errors.js";
import type { FileUrls } from "../http/file-urls.js";
import { callScope } from "../interceptors/auth.js";
import { uploadToProto } from "../convert/uploads.js";
import type { FileServiceDeps } from "./file-service.js";
import { refOf, toSize } from "./file-messages.js";
import { fileToProto } from "../convert/files.js";

/** Bytes per ReadFile message. */
export const READ_CHUNK_BYTES = 1024 * 1024;

/** WriteUpload: the first message names the session and the offset; every message's data is appended. */
export async function writeUpload(
  deps: FileServiceDeps,
  requests: AsyncIterable<WriteUploadRequest>,
  ctx: HandlerContext,
  urlsFor: (ctx: HandlerContext) => FileUrls,
): Promise<WriteUploadResponse> {
  const iterator = requests[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw InvalidArgumentError.field("name", "the stream was empty: the first message names the upload session and the offset");
  const target = parseUploadSessionName("name", first.value.name);
  const body = (async function* () {
    if (first.value.data.length) yield first.value.data;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) if (next.value.data.length) yield next.value.data;
  })();
  const session = await deps.uploads.write(callScope(ctx), target, toSize(first.value.offset, "offset"), body, { signal: ctx.signal });
  return create(WriteUploadResponseSchema, { upload: uploadToProto(session, urlsFor(ctx)) });
}

/** ReadFile: the file's bytes from `offset`, the first message also carrying the file. */
export async function* readFile(deps: FileServiceDeps, req: ReadFileRequest, ctx: HandlerContext): AsyncGenerator<ReadFileResponse> {
  const { file } = await deps.files.file(callScope(ctx), refOf(req.version), req.path);
  const offset = toSize(req.offset, "offset");
  if (offset > file.size) throw InvalidArgumentError.field("offset", `${offset} is past the end of ${file.path} (${file.size} bytes)`);
  const length = req.length === 0n ? undefined : toSize(req.length, "length");
  const stream = await deps.store.get(file.sha256, { offset, length });
  let position = offset;
  let sentFirst = false;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const message = (data: Uint8Array) => {
    const m = create(ReadFileResponseSchema, { file: sentFirst ? undefined : fileToProto(file), offset: BigInt(position), data });
    sentFirst = true;
    position += data.length;
    return m;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      ctx.signal.throwIfAborted();
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= READ_CHUNK_BYTES) {
        const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        yield message(all.subarray(0, READ_CHUNK_BYTES));
        const rest = all.subarray(READ_CHUNK_BYTES);
        pending = rest.length ? [rest] : [];
        pendingBytes = rest.length;
      }
    }
    if (pendingBytes > 0 || !sentFirst) yield message(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
  } finally {
    stream.destroy();
  }
}
