// Domain records <-> proto messages.
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AliasSchema,
  DependencySchema,
  DocumentSchema,
  ModelInterfaceSchema,
  ProcessingCodeSchema,
  VersionTemplateSchema,
  type Alias as AliasMsg,
  ModelSchema,
  type Model as ModelMsg,
  type Version as VersionMsg,
} from "@modelreg/proto";
import type { Alias } from "../domain/aliases/index.js";
import type { Model } from "../domain/models/index.js";
import type { Lineage, Version, VersionFields, VersionMetadata } from "../domain/versions/index.js";

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

/** A Timestamp as timestampFromDate makes it, without create()'s walk. */
function timestampOf(d: Date): Timestamp {
  const ms = d.getTime();
  const seconds = Math.floor(ms / 1000);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1000000 };
}

/**
 * The Version message, every field set as create(VersionSchema, ...) sets
 * it, written out as one object literal: a list page makes ~100 of them, and
 * create()'s generic walk over ~30 members (objects built key by key) cost
 * more than encoding them. The metadata messages (rarely set, nested) still
 * go through create().
 */
export function versionToProto(v: Version): VersionMsg {
  const m = v.metadata;
  const l = v.lineage;
  return {
    $typeName: "modelreg.v1.Version",
    name: v.name,
    uid: v.uid,
    version: v.version,
    description: v.description,
    labels: v.labels,
    createTime: timestampOf(v.createTime),
    updateTime: timestampOf(v.updateTime),
    etag: v.etag,
    model: v.model,
    modelUid: v.modelUid,
    lineage: {
      $typeName: "modelreg.v1.Lineage",
      trainingAlgorithmCode: l.trainingAlgorithmCode,
      trainingAlgorithmVersion: l.trainingAlgorithmVersion,
      sourceLocation: l.sourceLocation,
      sourceTask: l.sourceTask,
      sourceJobId: l.sourceJobId,
      sourceJobVersion: l.sourceJobVersion,
      dataVersion: l.dataVersion,
      sourceType: l.sourceType,
    },
    state: v.state,
    fileCount: BigInt(v.fileCount),
    totalSizeBytes: BigInt(v.totalSize),
    manifestDigest: v.manifestDigest,
    framework: m.framework,
    runtime: m.runtime,
    algorithm: m.algorithm,
    installTypes: m.installTypes ?? [],
    metrics: m.metrics ?? {},
    preprocessingParameters: m.preprocessingParameters ?? undefined,
    processingCode: m.processingCode != null ? create(ProcessingCodeSchema, m.processingCode) : undefined,
    interface: m.interface != null ? create(ModelInterfaceSchema, m.interface) : undefined,
    dependencies: m.dependencies ? m.dependencies.map((d) => create(DependencySchema, d)) : [],
    documents: m.documents ? m.documents.map((d) => create(DocumentSchema, d)) : [],
    readme: m.readme ?? "",
    template: m.template != null ? create(VersionTemplateSchema, m.template) : undefined,
    initialConfig: m.initialConfig ?? "",
    lifecycle: v.lifecycle,
    aliases: v.aliases,
  };
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
