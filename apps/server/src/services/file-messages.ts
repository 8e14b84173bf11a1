// The FileService's messages and the files domain's values: a version
// reference from its oneof, a stored file with a signed download URL (for a
// version's files and a task's alike), a staged file, and the uint64 sizes
// and offsets the streaming RPCs take.
import { create } from "@bufbuild/protobuf";
import { type StagedFile as StagedFileMsg, StagedFileSchema, type VersionFile as VersionFileMsg } from "@modelreg/proto";
import { uploadToProto } from "../convert/uploads.js";
import type { StagedFile, StoredFile, VersionRef } from "../domain/files/index.js";
import { InvalidArgumentError } from "../domain/shared/errors.js";
import { fileToProto } from "../convert/files.js";
import type { FileUrls } from "../http/file-urls.js";

export function refOf(version: { case: "name" | "uid"; value: string } | { case: undefined; value?: undefined }): VersionRef {
  if (version.case === "name") return { name: version.value };
  if (version.case === "uid") return { uid: version.value };
  throw InvalidArgumentError.field("version", "set exactly one of name (workspaces/{w}/models/{m}/versions/{v}) or uid");
}


/**
 * The file with a download URL signed for its content in `workspace`, named
 * by the path's last segment. The download route serves it while the
 * content is a committed file of a version of the workspace, an export's
 * archive, or held and named by a file of one of its tasks.
 */
export function fileWithUrl(workspace: string, f: StoredFile, urls: Pick<FileUrls, "download">): VersionFileMsg {
  return fileToProto(f, urls.download(workspace, f.sha256, f.path.slice(f.path.lastIndexOf("/") + 1)));
}

/** A staged file (a version's or a task's): present, or with the session that takes its content and that session's upload URL. */
export function stagedToProto(s: StagedFile, urls: Pick<FileUrls, "upload">): StagedFileMsg {
  return create(StagedFileSchema, { file: fileToProto(s.file), present: s.present, upload: s.upload ? uploadToProto(s.upload, urls) : undefined });
}

export function toSize(value: bigint, field: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw InvalidArgumentError.field(field, `${value} is out of range: expected 0 to ${Number.MAX_SAFE_INTEGER}`);
  return Number(value);
}
