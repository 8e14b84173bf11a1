// The FileService's messages and the files domain's values: a version
// reference from its oneof, a stored file as a VersionFile message, and the
// uint64 sizes and offsets the streaming RPCs take.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { VersionFileSchema, type VersionFile as VersionFileMsg } from "@modelreg/proto";
import type { StoredFile, VersionRef } from "../domain/files/index.js";
import { InvalidArgumentError } from "../domain/shared/errors.js";

export function refOf(version: { case: "name" | "uid"; value: string } | { case: undefined; value?: undefined }): VersionRef {
  if (version.case === "name") return { name: version.value };
  if (version.case === "uid") return { uid: version.value };
  throw InvalidArgumentError.field("version", "set exactly one of name (workspaces/{w}/models/{m}/versions/{v}) or uid");
}

export function fileToProto(f: StoredFile, download?: { url: string; expireTime: Date }): VersionFileMsg {
  return create(VersionFileSchema, {
    path: f.path,
    sizeBytes: BigInt(f.size),
    sha256: f.sha256,
    md5: f.md5,
    mediaType: f.mediaType,
    downloadUrl: download?.url ?? "",
    downloadUrlExpireTime: download ? timestampFromDate(download.expireTime) : undefined,
  });
}

export function toSize(value: bigint, field: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw InvalidArgumentError.field(field, `${value} is out of range: expected 0 to ${Number.MAX_SAFE_INTEGER}`);
  return Number(value);
}
