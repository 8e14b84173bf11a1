// Upload sessions as the contract shows them, for the FileService handlers
// and the plain-HTTP upload route alike.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type UploadSession as UploadSessionMsg, UploadSessionSchema, UploadState } from "@modelreg/proto";
import type { UploadSessionView } from "../domain/files/index.js";

/** Where a session's bytes go: a signed upload URL (http/file-urls.ts makes them). */
export interface UploadUrls {
  upload(workspace: string, id: string, expireTime: Date): string;
}

/** The session; an upload URL only while bytes are still to come. */
export function uploadToProto(s: UploadSessionView, urls: UploadUrls): UploadSessionMsg {
  return create(UploadSessionSchema, {
    name: s.name,
    version: s.version,
    task: s.task,
    sha256: s.sha256,
    sizeBytes: BigInt(s.size),
    committedOffset: BigInt(s.committedOffset),
    state: s.complete ? UploadState.COMPLETE : UploadState.ACTIVE,
    uploadUrl: s.complete ? "" : urls.upload(s.workspace, s.id, s.expireTime),
    expireTime: timestampFromDate(s.expireTime),
    maxChunkBytes: BigInt(s.maxChunkBytes),
  });
}
