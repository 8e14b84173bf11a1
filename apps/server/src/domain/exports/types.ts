// The records of exports as the domain hands them out, and their mapping
// from the joined rows of ./sql.ts.
import type { ExportRow } from "@modelreg/db";
import { versionResourceName } from "../shared/resource-names.js";

export type { ExportRow } from "@modelreg/db";

/** An export record with the names around it. */
export interface ExportView {
  row: ExportRow;
  /** `workspaces/{w}/models/{m}/versions/{v}/exports/{uid}` */
  name: string;
  /** The version's resource name. */
  version: string;
}

export interface ExportListOptions {
  pageSize: number;
  pageToken: string;
  filter: string;
}

export interface ExportPage {
  exports: ExportView[];
  nextPageToken: string;
}

/** An export row joined with the names of its version and model. */
export interface JoinedExportRow {
  e: ExportRow;
  version: string;
  model: string;
  workspace: string;
}

export function toExportView(r: JoinedExportRow): ExportView {
  const version = versionResourceName(r.workspace, r.model, r.version);
  return { row: r.e, version, name: `${version}/exports/${r.e.id}` };
}

/** A file of the version, as the archive lists it. */
export interface SourceFile {
  path: string;
  size: number;
  sha256: string;
  mediaType: string;
}

/** The published archive an export turns SUCCEEDED with. */
export interface ArchiveResult {
  fileName: string;
  fileType: string;
  /** The version's bytes packed, which the record's progress ends at. */
  total: number;
  revision: number;
  size: number;
  md5: string;
  sha256: string;
}
