// Rows to Versions: from the query builder's rows, and from the raw rows of
// the hand-written statements (snake_case, as either driver returns them).
import type { VersionRow } from "@modelreg/db";
import { etagOf } from "../shared/etag.js";
import { modelResourceName, versionResourceName } from "../shared/resource-names.js";
import { joinMetadata } from "./metadata.js";
import type { ModelRef, Version } from "./types.js";

export function toVersion(row: VersionRow, m: ModelRef, aliases: string[] = []): Version {
  return {
    uid: row.id,
    name: versionResourceName(m.workspace, m.name, row.version),
    version: row.version,
    description: row.description,
    labels: row.labels,
    createTime: row.createTime,
    updateTime: row.updateTime,
    etag: etagOf(row.id, row.revision),
    model: modelResourceName(m.workspace, m.name),
    modelUid: row.modelId,
    lineage: {
      trainingAlgorithmCode: row.trainingAlgorithmCode,
      trainingAlgorithmVersion: row.trainingAlgorithmVersion,
      sourceLocation: row.sourceLocation,
      sourceTask: row.sourceTask,
      sourceJobId: row.sourceJobId,
      sourceJobVersion: row.sourceJobVersion,
      dataVersion: row.dataVersion,
      sourceType: row.sourceType,
    },
    state: row.state,
    fileCount: row.fileCount,
    totalSize: Number(row.totalSize),
    manifestDigest: row.manifestDigest,
    metadata: joinMetadata(row),
    lifecycle: row.lifecycle,
    aliases,
  };
}

/** A row of a list page (see LIST_COLUMNS in page-sql.ts) as either driver returns it: the versions columns (see fromRaw) and these. */
export type ListRow = Record<string, unknown> & {
  sort_key: string;
  seq: string | number;
  model_name: string;
  aliases: string | null;
  /** pageBySeq by update_time: its keyset value. */
  micros?: string;
  /** pageByMetric's first phase: the metric. */
  value?: number | string | null;
  /** pageByMetric's first phase in a small model: does any version of the model lack the metric? */
  lacking?: boolean;
};

/** The Version of a list row: the same mapping as any raw versions row. */
export const fromListRow = (r: ListRow): Version =>
  toVersion(fromRaw(r), { workspace: r.workspace as string, name: r.model_name }, r.aliases ? r.aliases.split(",") : []);

/** A versions row as raw SQL returns it (snake_case) -> the Drizzle row. */
export function fromRaw(r: Record<string, unknown>): VersionRow {
  const s = (k: string) => r[k] as string;
  return {
    id: s("id"),
    modelId: s("model_id"),
    workspace: s("workspace"),
    version: s("version"),
    sortKey: s("sort_key"),
    description: s("description"),
    labels: r.labels as Record<string, string>,
    revision: Number(r.revision),
    trainingAlgorithmCode: s("training_algorithm_code"),
    trainingAlgorithmVersion: s("training_algorithm_version"),
    createTime: new Date(r.create_time as string),
    updateTime: new Date(r.update_time as string),
    state: Number(r.state),
    fileCount: Number(r.file_count),
    totalSize: Number(r.total_size),
    manifestDigest: s("manifest_digest"),
    draftStaged: r.draft_staged as boolean,
    seq: Number(r.seq),
    lifecycle: Number(r.lifecycle),
    framework: Number(r.framework),
    runtime: s("runtime"),
    algorithm: s("algorithm"),
    sourceLocation: s("source_location"),
    sourceTask: s("source_task"),
    sourceJobId: s("source_job_id"),
    sourceJobVersion: s("source_job_version"),
    dataVersion: s("data_version"),
    sourceType: s("source_type"),
    metrics: r.metrics as Record<string, number>,
    metadata: r.metadata as Record<string, unknown>,
    requestId: (r.request_id as string | null) ?? null,
  };
}
