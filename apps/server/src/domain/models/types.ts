// A model: a named collection of versions in a workspace, answered with its
// aliases.
import type { ModelRow } from "@modelreg/db";
import type { Alias } from "../aliases/types.js";
import { etagOf } from "../shared/etag.js";
import { modelResourceName } from "../shared/resource-names.js";

export interface Model {
  uid: string;
  workspace: string;
  /** The model's name (last segment of its resource name). */
  id: string;
  name: string;
  description: string;
  labels: Record<string, string>;
  createTime: Date;
  updateTime: Date;
  etag: string;
  versionCount: number;
  latestVersion: string;
  aliases: Alias[];
}

/** The user-settable fields of a model. */
export interface ModelFields {
  description: string;
  labels: Record<string, string>;
}

/** The options of a list call. */
export interface ModelListOptions {
  pageSize: number;
  pageToken: string;
  filter?: string;
  orderBy?: string;
}

export interface ModelPage {
  models: Model[];
  nextPageToken: string;
}

export function toModel(row: ModelRow, aliases: Alias[] = []): Model {
  return {
    uid: row.id,
    workspace: row.workspace,
    id: row.name,
    name: modelResourceName(row.workspace, row.name),
    description: row.description,
    labels: row.labels,
    createTime: row.createTime,
    updateTime: row.updateTime,
    etag: etagOf(row.id, row.revision),
    versionCount: row.versionCount,
    latestVersion: row.latestVersion,
    aliases,
  };
}
