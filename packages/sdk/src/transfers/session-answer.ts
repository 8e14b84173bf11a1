// An upload session as both clients see it (Node's upload-session.ts, the
// browser's fetch uploads): how much one request sends, the answer to a PUT,
// and a chunk refused for starting at the wrong offset. No node: module here.
import { fromJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, UploadSessionSchema, UploadState, type UploadSession } from "@modelreg/proto";

/** Largest piece sent per PUT or WriteUpload stream by default: the server's default max_chunk_bytes. */
export const DEFAULT_CHUNK_BYTES = 256 << 20;

/** The bytes per PUT or stream: the caller's chunk size capped by the server's limit. */
export function chunkSizeFor(session: UploadSession, chunkBytes = DEFAULT_CHUNK_BYTES): number {
  const max = Number(session.maxChunkBytes);
  return Math.max(1, max > 0 ? Math.min(chunkBytes, max) : chunkBytes);
}

/** A chunk that did not start at the committed offset (HTTP 409 / OFFSET_MISMATCH). */
export function isOffsetMismatch(err: ConnectError): boolean {
  if (err.code !== Code.FailedPrecondition) return false;
  return err.metadata.get("x-http-status") === "409" || err.findDetails(ErrorInfoSchema).some((i) => i.reason === "OFFSET_MISMATCH");
}

/** The session after a PUT: the answer is the UploadSession as proto JSON (older form: committedOffset + complete). */
export function sessionFromPutAnswer(before: UploadSession, text: string): UploadSession {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ConnectError(`upload ${before.name}: the server's answer is not JSON: ${text.slice(0, 200)}`, Code.Internal);
  }
  const { complete, ...rest } = json;
  const parsed = fromJson(UploadSessionSchema, rest as never, { ignoreUnknownFields: true });
  // Fields the answer leaves out (URL, limits) keep their values.
  return {
    ...before,
    ...(parsed.uploadUrl ? { uploadUrl: parsed.uploadUrl } : {}),
    ...(parsed.maxChunkBytes ? { maxChunkBytes: parsed.maxChunkBytes } : {}),
    ...(parsed.expireTime ? { expireTime: parsed.expireTime } : {}),
    // A session opened without a digest learns it with its last byte.
    ...(parsed.sha256 ? { sha256: parsed.sha256 } : {}),
    committedOffset: parsed.committedOffset,
    state: complete === true ? UploadState.COMPLETE : parsed.state || UploadState.ACTIVE,
  };
}
