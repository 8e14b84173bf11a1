// Domain records <-> proto messages.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AliasSchema,
  type Alias as AliasMsg,
  ModelSchema,
  type Model as ModelMsg,
  VersionSchema,
  type Version as VersionMsg,
} from "@modelreg/proto";
import type { Alias, Model } from "../domain/models.js";
import type { VersionMetadata } from "../domain/version-metadata.js";
import type { Lineage, Version, VersionFields } from "../domain/versions.js";

export function aliasToProto(a: Alias): AliasMsg {
  return create(AliasSchema, { alias: a.alias, version: a.version, protected: a.protected, updateTime: timestampFromDate(a.updateTime) });
}

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
    aliases: m.aliases.map(aliasToProto),
  });
}

export function versionToProto(v: Version): VersionMsg {
  const m = v.metadata;
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
    framework: m.framework,
    runtime: m.runtime,
    algorithm: m.algorithm,
    installTypes: m.installTypes,
    metrics: m.metrics,
    preprocessingParameters: m.preprocessingParameters,
    processingCode: m.processingCode,
    interface: m.interface,
    dependencies: m.dependencies,
    documents: m.documents,
    readme: m.readme,
    template: m.template,
    initialConfig: m.initialConfig,
    lifecycle: v.lifecycle,
    aliases: v.aliases,
  });
}

/** Plain data of a message (no $typeName), as the domain stores it. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => (k === "$typeName" ? undefined : v))) as T;
}

/** The settable fields of a Version message (absent message = all defaults). */
export function versionFieldsOf(v: VersionMsg | undefined): VersionFields {
  const metadata: VersionMetadata = {
    framework: v?.framework ?? 0,
    runtime: v?.runtime ?? "",
    algorithm: v?.algorithm ?? "",
    installTypes: [...(v?.installTypes ?? [])],
    metrics: { ...(v?.metrics ?? {}) },
    preprocessingParameters: v?.preprocessingParameters,
    processingCode: v?.processingCode ? plain(v.processingCode) : undefined,
    interface: v?.interface ? plain(v.interface) : undefined,
    dependencies: plain(v?.dependencies ?? []),
    documents: plain(v?.documents ?? []),
    readme: v?.readme ?? "",
    template: v?.template ? plain(v.template) : undefined,
    initialConfig: v?.initialConfig ?? "",
  };
  return { description: v?.description ?? "", labels: v?.labels ?? {}, metadata, lifecycle: v?.lifecycle ?? 0 };
}

export function lineageOf(v: VersionMsg | undefined): Lineage {
  const l = v?.lineage;
  return {
    trainingAlgorithmCode: l?.trainingAlgorithmCode ?? "",
    trainingAlgorithmVersion: l?.trainingAlgorithmVersion ?? "",
    sourceLocation: l?.sourceLocation ?? "",
    sourceTask: l?.sourceTask ?? "",
    sourceJobId: l?.sourceJobId ?? "",
    sourceJobVersion: l?.sourceJobVersion ?? "",
    dataVersion: l?.dataVersion ?? "",
    sourceType: l?.sourceType ?? "",
  };
}
