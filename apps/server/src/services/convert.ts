// Domain records -> proto messages.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ModelSchema, VersionSchema, type Model as ModelMsg, type Version as VersionMsg } from "@modelreg/proto";
import type { Model } from "../domain/models.js";
import type { Version } from "../domain/versions.js";

export function modelToProto(m: Model): ModelMsg {
  return create(ModelSchema, {
    name: m.name,
    uid: m.uid,
    description: m.description,
    labels: m.labels,
    createTime: timestampFromDate(m.createTime),
    updateTime: timestampFromDate(m.updateTime),
    etag: m.etag,
    versionCount: BigInt(m.versionCount),
    latestVersion: m.latestVersion,
  });
}

export function versionToProto(v: Version): VersionMsg {
  return create(VersionSchema, {
    name: v.name,
    uid: v.uid,
    version: v.version,
    description: v.description,
    labels: v.labels,
    createTime: timestampFromDate(v.createTime),
    updateTime: timestampFromDate(v.updateTime),
    etag: v.etag,
    model: v.model,
    modelUid: v.modelUid,
    lineage: v.lineage,
    state: v.state,
    fileCount: BigInt(v.fileCount),
    totalSizeBytes: BigInt(v.totalSize),
    manifestDigest: v.manifestDigest,
  });
}
