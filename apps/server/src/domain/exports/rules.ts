// The rules of exports that need no database: what a request must carry,
// which state an export may move to from which, and how the archive is named.
import { ExportFormatSchema, ExportState, ExportStateSchema } from "@modelreg/proto";
import { enumChoices, enumCodes, enumName } from "../shared/enum-codes.js";
import { FailedPreconditionError, InvalidArgumentError } from "../shared/errors.js";
import { type FilterExpr, parseFilter } from "../shared/filter/index.js";
import { type ModelName, parseModelName, parseVersionName } from "../shared/resource-names.js";
import { checkPageSize, collect, Violations } from "../shared/validation.js";
import type { ExportListOptions } from "./types.js";

/** An export waiting for a server or being packed by one. */
export const LIVE: ExportState[] = [ExportState.PENDING, ExportState.RUNNING];
/** Whether the export is waiting for a server or being packed by one. */
export function isLive(state: number): boolean {
  return (LIVE as number[]).includes(state);
}

/** Exports a new request for the same revision and format answers with (unless forced). */
export const REUSABLE: ExportState[] = [...LIVE, ExportState.SUCCEEDED];

/**
 * The states an export moves from, by the state it moves to: a server claims
 * a live one (again, when the server before it died), a failed try waits
 * for the next as PENDING, and only a RUNNING one succeeds, so a
 * cancellation that came first stays.
 */
export const MOVES_TO: Readonly<Record<ExportState, readonly ExportState[]>> = {
  [ExportState.UNSPECIFIED]: [],
  [ExportState.PENDING]: [ExportState.RUNNING],
  [ExportState.RUNNING]: LIVE,
  [ExportState.SUCCEEDED]: [ExportState.RUNNING],
  [ExportState.FAILED]: LIVE,
  [ExportState.CANCELLED]: LIVE,
};

/** Whether an export in state `from` may move to state `to`. */
export function mayMove(from: number, to: ExportState): boolean {
  return (MOVES_TO[to] as readonly number[]).includes(from);
}

const FORMATS = new Set(Object.values(enumCodes(ExportFormatSchema)));
const FORMAT_CHOICES = enumChoices(ExportFormatSchema);

/** A create's format: one the contract names. */
export function checkCreateFormat(format: number): void {
  const v = new Violations();
  if (!FORMATS.has(format)) v.add("format", `${format === 0 ? "is required" : `${format} is not a format`}: use ${FORMAT_CHOICES}`);
  if (!v.empty) throw new InvalidArgumentError(v.list);
}

/** GetLatestExport's format: one the contract names, or 0 for any. */
export function checkLatestFormat(format: number): void {
  if (format !== 0 && !FORMATS.has(format)) throw InvalidArgumentError.field("format", `${format} is not a format: use ${FORMAT_CHOICES}, or leave it unset for any`);
}

/** Only a live export can be cancelled. */
export function checkCancellable(name: string, state: number): void {
  if (!mayMove(state, ExportState.CANCELLED))
    throw new FailedPreconditionError(
      "EXPORT_FINISHED",
      `${name} is ${enumName(ExportStateSchema, state)} already; only a PENDING or RUNNING export can be cancelled`,
      { resource: name },
    );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXPORT_FORM = "workspaces/{workspace}/models/{model}/versions/{version}/exports/{export}";

/** Parses an export's resource name into its version's name and its uid. */
export function parseExportName(field: string, value: string): { version: ReturnType<typeof parseVersionName>; id: string } {
  const parts = value.split("/");
  if (parts.length !== 8 || parts[6] !== "exports") {
    const shown = value === "" ? "is required" : `"${value.slice(0, 120)}" is not a valid name`;
    throw InvalidArgumentError.field(field, `${shown}: expected ${EXPORT_FORM}`);
  }
  const version = parseVersionName(field, parts.slice(0, 6).join("/"));
  if (!UUID.test(parts[7]!)) throw InvalidArgumentError.field(field, `"${parts[7]!.slice(0, 40)}" is not an export id (a UUID): expected ${EXPORT_FORM}`);
  return { version, id: parts[7]!.toLowerCase() };
}

/** The parent of a list naming every version of a model. */
export const ALL_VERSIONS = "/versions/-";

/** A list's arguments, checked: the page size, the filter, and the model when the parent is `…/versions/-`. */
export function checkList(parent: string, opts: ExportListOptions): { limit: number; expr: FilterExpr; model?: ModelName } {
  const v = new Violations();
  const limit = checkPageSize(v, opts.pageSize);
  const expr = collect(v, () => parseFilter(opts.filter));
  const allVersions = parent.endsWith(ALL_VERSIONS);
  const model = allVersions ? collect(v, () => parseModelName("parent", parent.slice(0, -ALL_VERSIONS.length))) : undefined;
  if (!v.empty || !expr) throw new InvalidArgumentError(v.list);
  return { limit, expr, model };
}

/** The archive's file name: `<model>-<version><extension>`, from the version's resource names. */
export function archiveFileName(version: { model: string; version: string }, extension: string): string {
  return `${version.model.slice(version.model.lastIndexOf("/") + 1)}-${version.version}${extension}`;
}
