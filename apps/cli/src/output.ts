// Rendering results: `table` for people (aligned columns for lists, a
// key/value view for one resource), `json` for scripts (the proto JSON of
// each message: one object, or an array for a list, ready for jq), `yaml`
// for people who read and edit data (the very same values as `json`).
import { toJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { FrameworkSchema, Lifecycle, ModelSchema, VersionSchema, VersionState, VersionStateSchema, type Model, type Version } from "@modelreg/sdk";
import { enumWord } from "./enum-words.js";
import Table from "cli-table3";
import { stringify as yamlStringify } from "yaml";
import type { Io } from "./io.js";
import { formatLabels } from "./labels.js";

export const outputFormats = ["table", "json", "yaml"] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** The formats that print data (the same values in either): everything but `table`. */
export type DataFormat = Exclude<OutputFormat, "table">;

export interface RenderOptions {
  /** ANSI styling of table headers; only when a person is looking. */
  color?: boolean;
}

export interface VersionsTableOptions extends RenderOptions {
  /** Metrics to show first (e.g. the one the list is ordered by); the table shows at most MAX_METRIC_COLUMNS. */
  metrics?: string[];
  /** The versions come from several models: the first column is model:version. */
  acrossModels?: boolean;
}

/** Writes results in the chosen format. */
export interface Output {
  readonly format: OutputFormat;
  model(model: Model): void;
  models(models: Model[], workspace: string): void;
  version(version: Version): void;
  versions(versions: Version[], model: string, options?: VersionsTableOptions): void;
  /** Confirmation of a delete: one line (table) or `{}` (json, yaml). */
  deleted(kind: "model" | "version" | "workspace", name: string, note?: string): void;
  /** Any one message: `render(message)` (table) or its proto JSON (json; yaml: the same values). */
  one<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>, render: (message: MessageShape<Desc>) => string): void;
  /** A list: `render(items)` (table; `empty` on stderr when there are none, unless quiet) or an array of proto JSON (json, yaml). */
  list<Desc extends DescMessage>(
    schema: Desc,
    items: MessageShape<Desc>[],
    render: (items: MessageShape<Desc>[], options: RenderOptions) => string,
    empty: string,
  ): void;
  /** Free-form: `text` (table) or `json` (json; yaml: the same values). */
  result(text: string, json: unknown): void;
}

export interface OutputOptions {
  /** --quiet: no informational lines on stderr (a list's "no ... found"). */
  quiet?: boolean;
}

export function createOutput(format: OutputFormat, io: Io, options: OutputOptions = {}): Output {
  const color = io.stdout.isTTY === true && !io.env.NO_COLOR;
  const print = (text: string) => io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  // One rendering path: each format implements these four; models and
  // versions are shortcuts through one() and list() below.
  const base: Pick<Output, "format" | "deleted" | "one" | "list" | "result"> =
    format !== "table"
      ? {
          format,
          deleted: () => print(dataText(format, {})),
          one: (schema, m) => print(dataText(format, messageJson(schema, m))),
          list: (schema, items) => print(dataText(format, items.map((m) => messageJson(schema, m)))),
          result: (_text, json) => print(dataText(format, json)),
        }
      : {
          format,
          deleted: (kind, name, note) => print(`deleted ${kind} ${name}${note ? ` ${note}` : ""}`),
          one: (_schema, m, render) => print(render(m)),
          list: (_schema, items, render, empty) => {
            if (items.length > 0) print(render(items, { color }));
            else if (!options.quiet) io.stderr.write(`${empty}\n`);
          },
          result: (text) => print(text),
        };
  return {
    ...base,
    model: (m) => base.one(ModelSchema, m, renderModel),
    models: (ms, workspace) => base.list(ModelSchema, ms, renderModelsTable, `no models in workspace ${workspace}`),
    version: (v) => base.one(VersionSchema, v, renderVersion),
    versions: (vs, model, options = {}) => base.list(VersionSchema, vs, (items, o) => renderVersionsTable(items, { ...options, ...o }), `no versions of ${model}`),
  };
}

// --- JSON -------------------------------------------------------------------

/**
 * Proto JSON (lowerCamelCase names, int64 as strings, RFC 3339 times), with
 * every field present even when empty, so `jq .latestVersion` never yields null.
 */
export function messageJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): JsonValue {
  return toJson(schema, message, { alwaysEmitImplicit: true });
}

export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

// --- YAML -------------------------------------------------------------------

/**
 * The JSON value as YAML: strings that would read back as another type
 * ("1.0", "123", "true") are quoted, nothing is folded or shared through
 * anchors, so parsing it gives back exactly what -o json prints.
 */
export function yamlText(value: unknown): string {
  return yamlStringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** A value printed whole: indented JSON, or YAML; ends with a newline. */
export function dataText(format: DataFormat, value: unknown): string {
  return format === "json" ? `${jsonText(value)}\n` : yamlText(value);
}

/**
 * One item of a stream (logs -f, watch): a JSON line (json), or a YAML
 * document opened by `---` (yaml), so `-o yaml` of a stream is a multi-document stream.
 */
export function streamItemText(format: DataFormat, value: unknown): string {
  return format === "json" ? `${JSON.stringify(value)}\n` : `---\n${yamlText(value)}`;
}

// --- tables -----------------------------------------------------------------

const DESCRIPTION_WIDTH = 48;

/** NAME, LATEST, VERSIONS, ALIASES, DESCRIPTION, UPDATED. */
export function renderModelsTable(models: Model[], options: RenderOptions = {}): string {
  return table(
    ["NAME", "LATEST", "VERSIONS", "ALIASES", "DESCRIPTION", "UPDATED"],
    models.map((m) => [
      lastSegment(m.name),
      m.latestVersion || "-",
      String(m.versionCount),
      oneLine(m.aliases.map((a) => `${a.alias}=${a.version}`).join(","), DESCRIPTION_WIDTH),
      oneLine(m.description, DESCRIPTION_WIDTH),
      time(m.updateTime),
    ]),
    options,
  );
}

export const MAX_METRIC_COLUMNS = 3;

/** VERSION (or MODEL:VERSION), STATE, FRAMEWORK, up to 3 metrics, ALIASES, LABELS, CREATED. */
export function renderVersionsTable(versions: Version[], options: VersionsTableOptions = {}): string {
  const metrics = metricColumns(versions, options.metrics ?? []);
  return table(
    [options.acrossModels ? "MODEL:VERSION" : "VERSION", "STATE", "FRAMEWORK", ...metrics.map((m) => m.toUpperCase()), "ALIASES", "LABELS", "CREATED"],
    versions.map((v) => [
      options.acrossModels ? `${lastSegment(v.model)}:${v.version}` : v.version,
      versionStateName(v.state) + (v.lifecycle === Lifecycle.ARCHIVED ? " (archived)" : ""),
      frameworkName(v.framework),
      ...metrics.map((m) => (Object.hasOwn(v.metrics, m) ? metricValue(v.metrics[m]!) : "-")),
      v.aliases.length > 0 ? v.aliases.join(",") : "-",
      oneLine(formatLabels(v.labels), DESCRIPTION_WIDTH),
      time(v.createTime),
    ]),
    options,
  );
}

/** The metric columns: the preferred ones that occur, then the most common others (ties by name), at most MAX_METRIC_COLUMNS. */
export function metricColumns(versions: Version[], preferred: string[]): string[] {
  const counts = new Map<string, number>();
  for (const v of versions) for (const name of Object.keys(v.metrics)) counts.set(name, (counts.get(name) ?? 0) + 1);
  const first = preferred.filter((m, i) => counts.has(m) && preferred.indexOf(m) === i);
  const rest = [...counts.keys()].filter((m) => !first.includes(m)).sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
  return [...first, ...rest].slice(0, MAX_METRIC_COLUMNS);
}

/** At most 4 decimals, no trailing zeros: 0.912, 0.8833, 1500. */
export function metricValue(value: number): string {
  return Math.abs(value) >= 1e9 ? value.toExponential(3) : String(Math.round(value * 1e4) / 1e4);
}

/** `pytorch`, `onnx`; `-` when unset. */
export function frameworkName(framework: number): string {
  return enumWord(FrameworkSchema, framework);
}

/** Borderless, aligned columns (like kubectl): readable, and still greppable. */
export function table(head: string[], rows: string[][], options: RenderOptions): string {
  const blank = { top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "" };
  const t = new Table({
    head,
    chars: { ...blank, left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "   " },
    style: { head: options.color ? ["bold"] : [], border: [], "padding-left": 0, "padding-right": 0 },
  });
  t.push(...rows);
  return t
    .toString()
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}

// --- one resource -----------------------------------------------------------

export function renderModel(m: Model): string {
  return keyValues([
    ["Name", m.name],
    ["Uid", m.uid],
    ["Description", m.description],
    ["Labels", labelLines(m.labels)],
    ["Latest version", m.latestVersion],
    ["Versions", String(m.versionCount)],
    ["Created", time(m.createTime)],
    ["Updated", time(m.updateTime)],
    ["Etag", m.etag],
  ]);
}

export function renderVersion(v: Version): string {
  return keyValues([
    ["Name", v.name],
    ["Version", v.version],
    ["Uid", v.uid],
    ["Model", v.model],
    ["Model uid", v.modelUid],
    ["Description", v.description],
    ["Labels", labelLines(v.labels)],
    ["State", versionStateName(v.state)],
    ["Lifecycle", v.lifecycle === Lifecycle.ARCHIVED ? "archived" : "active"],
    ["Aliases", v.aliases.join("\n")],
    ["Framework", v.framework === 0 ? "" : frameworkName(v.framework)],
    ["Runtime", v.runtime],
    ["Algorithm", v.algorithm],
    ["Metrics", Object.keys(v.metrics).sort().map((k) => `${k}=${metricValue(v.metrics[k]!)}`).join("\n")],
    ["Data version", v.lineage?.dataVersion ?? ""],
    ["Source", v.lineage?.sourceLocation ?? ""],
    ["Source task", v.lineage?.sourceTask ?? ""],
    ["Files", v.state === VersionState.READY ? `${v.fileCount} (${v.totalSizeBytes} bytes)` : "-"],
    ["Manifest digest", v.manifestDigest],
    ["Created", time(v.createTime)],
    ["Updated", time(v.updateTime)],
    ["Etag", v.etag],
  ]);
}

/** `pending`, `ready`; `-` when unset. */
export function versionStateName(state: VersionState): string {
  return enumWord(VersionStateSchema, state);
}

export function keyValues(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows
    .map(([k, v]) => {
      const [first = "", ...rest] = (v === "" ? "-" : v).split("\n");
      return [`${`${k}:`.padEnd(width)}${first}`, ...rest.map((line) => `${" ".repeat(width)}${line}`)].join("\n");
    })
    .join("\n");
}

function labelLines(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join("\n");
}

// --- cells ------------------------------------------------------------------

/** `2026-03-01T12:00:00Z` (UTC, whole seconds); `-` when unset. */
export function time(ts: Timestamp | undefined): string {
  if (!ts) return "-";
  return timestampDate(ts).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** One line, at most `width` characters; `-` when empty. */
export function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat === "") return "-";
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

/** `workspaces/w/models/fraud` -> `fraud`. */
export function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}
