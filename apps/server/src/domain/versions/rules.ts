// The rules of versions that need no database: what a create, a list and an
// update must carry, lineage and lifecycle values, when a version may be
// archived, and how an update's metadata merges with what is stored.
import { Lifecycle } from "@modelreg/proto";
import { FailedPreconditionError, InvalidArgumentError } from "../shared/errors.js";
import { type FilterExpr, parseFilter } from "../shared/filter/index.js";
import { type OrderBy, parseOrderBy } from "../shared/order-by.js";
import { type ModelName, parseModelName, parseWorkspaceName } from "../shared/resource-names.js";
import { parseSemver } from "../shared/semver.js";
import { resolveUpdateMask } from "../shared/update-mask.js";
import { checkCommonFields, checkPageSize, checkRequestId, checkText, collect, Violations } from "../shared/validation.js";
import { EMPTY_METADATA, METADATA_FIELDS, METADATA_KEY, type MetadataField, normalizeMetadata, type VersionMetadata } from "./metadata.js";
import { checkMetadata } from "./metadata-rules.js";
import type { Lineage, ListOptions, VersionFields } from "./types.js";

/** The fields an update mask may name. */
export const UPDATABLE = ["description", "labels", ...METADATA_FIELDS, "lifecycle"] as const;
export type UpdatableField = (typeof UPDATABLE)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TASK_NAME = /^workspaces\/[a-z][a-z0-9-]{0,62}\/tasks\/[A-Za-z0-9_-]{1,64}$/;

export function checkLineage(v: Violations, l: Lineage): void {
  const at = (f: string) => `version.lineage.${f}`;
  checkText(v, at("training_algorithm_code"), l.trainingAlgorithmCode, 128);
  checkText(v, at("training_algorithm_version"), l.trainingAlgorithmVersion, 64);
  checkText(v, at("source_job_id"), l.sourceJobId, 128);
  checkText(v, at("source_job_version"), l.sourceJobVersion, 64);
  checkText(v, at("data_version"), l.dataVersion, 128);
  if (l.sourceType !== "" && !/^[A-Za-z0-9_-]{1,32}$/.test(l.sourceType)) v.add(at("source_type"), `"${l.sourceType.slice(0, 40)}" is not a source type: at most 32 letters, digits, _ -`);
  if (l.sourceLocation !== "") {
    let ok = l.sourceLocation.length <= 2048 && !/\s/.test(l.sourceLocation);
    try {
      ok &&= /^[a-z][a-z0-9+.-]*:$/.test(new URL(l.sourceLocation).protocol);
    } catch {
      ok = false;
    }
    if (!ok) v.add(at("source_location"), `"${l.sourceLocation.slice(0, 80)}" is not a URI (e.g. s3://bucket/run-42/ or https://...): at most 2,048 characters, no spaces`);
  }
  if (l.sourceTask !== "" && !TASK_NAME.test(l.sourceTask)) v.add(at("source_task"), `"${l.sourceTask.slice(0, 80)}" is not a task name: expected workspaces/{workspace}/tasks/{task}`);
}

export function checkLifecycle(v: Violations, lifecycle: number): void {
  if (![0, Lifecycle.ACTIVE, Lifecycle.ARCHIVED].includes(lifecycle)) v.add("version.lifecycle", `${lifecycle} is not ACTIVE or ARCHIVED`);
}

/** A create's arguments, checked: the model it goes into, and the fields in their stored form. */
export function checkCreate(parent: string, versionId: string, fields: VersionFields, lineage: Lineage, requestId: string): { model: ModelName; fields: VersionFields } {
  const v = new Violations();
  const n = collect(v, () => parseModelName("parent", parent));
  if (versionId !== "") {
    const problem = parseSemver(versionId).error;
    if (problem) v.add("version_id", problem);
  }
  checkCommonFields(v, "version", fields);
  checkLineage(v, lineage);
  checkMetadata(v, "version", fields.metadata);
  checkLifecycle(v, fields.lifecycle);
  checkRequestId(v, requestId);
  if (!v.empty || !n) throw new InvalidArgumentError(v.list);
  return { model: n, fields: { ...fields, metadata: normalizeMetadata(fields.metadata) } };
}

/** A version uid: a UUID. */
export function checkUid(uid: string): void {
  if (!UUID.test(uid)) throw InvalidArgumentError.field("uid", `"${uid.slice(0, 40)}" is not a version uid (a UUID such as 0190b6d2-7a1c-4c55-9e0e-6f1b2c3d4e5f)`);
}

/** A list's arguments, checked: within one model, or across a workspace (`models/-`). */
export interface ListQuery {
  /** The model, unless the list is across the workspace. */
  model: ModelName | undefined;
  workspace: string;
  limit: number;
  filter: string;
  expr: FilterExpr;
  order: OrderBy;
}

export function checkList(parent: string, opts: ListOptions): ListQuery {
  const v = new Violations();
  const across = /^workspaces\/[^/]+\/models\/-$/.test(parent);
  const n = across ? undefined : collect(v, () => parseModelName("parent", parent));
  const workspace = across ? collect(v, () => parseWorkspaceName("parent", parent.slice(0, -"/models/-".length)))?.workspace : n?.workspace;
  const limit = checkPageSize(v, opts.pageSize);
  const filter = opts.filter ?? "";
  const expr = collect(v, () => parseFilter(filter));
  const order = collect(v, () =>
    parseOrderBy(opts.orderBy ?? "", ["version", "create_time", "update_time"], ["metrics"], across ? { field: "create_time", desc: true } : { field: "version", desc: true }),
  );
  if (!v.empty || !workspace || !expr || !order) throw new InvalidArgumentError(v.list);
  return { model: n, workspace, limit, filter, expr, order };
}

/** Does the filter name this field anywhere? */
export function mentions(expr: FilterExpr, field: string): boolean {
  switch (expr.kind) {
    case "all":
      return false;
    case "and":
    case "or":
      return expr.args.some((a) => mentions(a, field));
    case "not":
      return mentions(expr.arg, field);
    case "compare":
      return expr.field === field;
  }
}

/** An update, checked: its mask, the metadata fields in it, and the metadata with only those fields set. */
export interface UpdateQuery {
  mask: Set<UpdatableField>;
  metadataMask: MetadataField[];
  masked: VersionMetadata;
}

export function checkUpdate(paths: string[], fields: VersionFields): UpdateQuery {
  const mask = resolveUpdateMask(paths, UPDATABLE);
  const v = new Violations();
  checkCommonFields(v, "version", {
    description: mask.has("description") ? fields.description : undefined,
    labels: mask.has("labels") ? fields.labels : undefined,
  });
  const metadataMask = METADATA_FIELDS.filter((f) => mask.has(f));
  // Only the fields in the mask count; the others are ignored, whatever they hold.
  const masked = { ...EMPTY_METADATA, ...Object.fromEntries(metadataMask.map((f) => [METADATA_KEY[f], fields.metadata[METADATA_KEY[f]]])) } as VersionMetadata;
  checkMetadata(v, "version", masked);
  if (mask.has("lifecycle")) {
    checkLifecycle(v, fields.lifecycle);
    if (fields.lifecycle === 0) v.add("version.lifecycle", "is required when lifecycle is in the update mask: ACTIVE or ARCHIVED");
  }
  if (!v.empty) throw new InvalidArgumentError(v.list);
  return { mask, metadataMask, masked };
}

/** The stored metadata with the update's masked fields laid over it, in stored form. */
export function mergeMetadata(stored: VersionMetadata, u: UpdateQuery): VersionMetadata {
  return normalizeMetadata({
    ...stored,
    ...Object.fromEntries(u.metadataMask.map((f) => [METADATA_KEY[f], u.masked[METADATA_KEY[f]]])),
  } as VersionMetadata);
}

/** A version that aliases point at cannot be archived: the aliases would point at a hidden version. */
export function checkArchivable(resource: string, lifecycle: number, aliases: string[]): void {
  if (lifecycle === Lifecycle.ARCHIVED && aliases.length > 0)
    throw new FailedPreconditionError(
      "VERSION_HAS_ALIASES",
      `${resource} is what ${aliases.map((a) => `@${a}`).join(", ")} point at; move or delete those aliases before archiving it`,
      { resource, aliases: aliases.join(",") },
    );
}
