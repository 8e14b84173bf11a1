// Files of manifests between the domain and proto: a VersionFile message
// of a request as the domain's FileSpec, and a file (with its md5 and a
// download URL when it has them) as a VersionFile message; for versions'
// files and tasks' alike.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { VersionFileSchema, type VersionFile as VersionFileMsg } from "@modelreg/proto";
import type { FileSpec } from "../domain/files/index.js";

/** A file of a request; sizes are checked in the domain with every other field (a bigint beyond 2^53 becomes an unsafe number there). */
export function fileSpecOf(f: VersionFileMsg): FileSpec {
  return { path: f.path, size: Number(f.sizeBytes), sha256: f.sha256, mediaType: f.mediaType };
}

export function fileToProto(f: FileSpec & { md5?: string }, download?: { url: string; expireTime: Date }): VersionFileMsg {
  return create(VersionFileSchema, {
    path: f.path,
    sizeBytes: BigInt(f.size),
    sha256: f.sha256,
    md5: f.md5 ?? "",
    mediaType: f.mediaType,
    downloadUrl: download?.url ?? "",
    downloadUrlExpireTime: download ? timestampFromDate(download.expireTime) : undefined,
  });
}
