// A version: one numbered, immutable-by-content snapshot of a model, with
// its metadata, lineage and lifecycle.
import type { VersionMetadata } from "./metadata.js";

export interface Version {
  uid: string;
  name: string;
  version: string;
  description: string;
  labels: Record<string, string>;
  createTime: Date;
  updateTime: Date;
  etag: string;
  /** Resource name of the model. */
  model: string;
  modelUid: string;
  lineage: Lineage;
  /** modelreg.v1.VersionState: 1 pending, 2 ready. */
  state: number;
  fileCount: number;
  totalSize: number;
  manifestDigest: string;
  metadata: VersionMetadata;
  /** modelreg.v1.Lifecycle: 1 active, 2 archived. */
  lifecycle: number;
  /** Aliases of the model pointing here, sorted. */
  aliases: string[];
}

/** Where a version came from; set at creation only. */
export interface Lineage {
  trainingAlgorithmCode: string;
  trainingAlgorithmVersion: string;
  sourceLocation: string;
  sourceTask: string;
  sourceJobId: string;
  sourceJobVersion: string;
  dataVersion: string;
  sourceType: string;
}

export const NO_LINEAGE: Lineage = {
  trainingAlgorithmCode: "",
  trainingAlgorithmVersion: "",
  sourceLocation: "",
  sourceTask: "",
  sourceJobId: "",
  sourceJobVersion: "",
  dataVersion: "",
  sourceType: "",
};

/** The user-settable fields of a version. */
export interface VersionFields {
  description: string;
  labels: Record<string, string>;
  metadata: VersionMetadata;
  /** 0 = unspecified (ACTIVE on create). */
  lifecycle: number;
}

/** A page of versions in the order asked for. */
export interface VersionPage {
  versions: Version[];
  nextPageToken: string;
}

export interface ListOptions {
  pageSize: number;
  pageToken: string;
  filter?: string;
  orderBy?: string;
}

/** The model a version belongs to, as its resource name needs it. */
export interface ModelRef {
  workspace: string;
  name: string;
}
