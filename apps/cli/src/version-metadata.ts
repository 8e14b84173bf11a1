// The metadata flags of `versions create` and `versions update`:
// --framework, --runtime, --algorithm, --metric, --data-version,
// --source-location, --readme, --metadata (a Version fragment in proto JSON
// for everything else), --archive/--unarchive. The CLI only reads files and
// splits text; the server checks every value and names the bad field.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { enumWords, parseEnumWord } from "./enum-words.js";
import { FrameworkSchema, LineageSchema, Lifecycle, VersionSchema, type Version } from "@modelreg/sdk";
import { InvalidArgumentError, Option, type Command } from "commander";
import { UsageError } from "./exit-codes.js";
import type { Io } from "./io.js";
import { mapOnce } from "./labels.js";

export interface MetadataFlags {
  framework?: number;
  runtime?: string;
  algorithm?: string;
  metric?: Metric[];
  dataVersion?: string;
  sourceLocation?: string;
  readme?: string;
  metadata?: string;
  archive?: boolean;
  unarchive?: boolean;
}

export interface Metric {
  name: string;
  value: number;
}

/** Other names people use for a framework: `tensorflow` (SavedModel), `keras`, `sklearn`. */
const FRAMEWORK_SYNONYMS: Record<string, string> = { tensorflow: "tensorflow_saved_model", keras: "h5", sklearn: "scikit_learn" };

/** `pytorch`, `PYTORCH`, `FRAMEWORK_PYTORCH`, `tensorflow` (SavedModel), `scikit-learn` -> the Framework value. */
export function parseFramework(text: string): number {
  const word = text.trim().toLowerCase();
  const value = parseEnumWord(FrameworkSchema, FRAMEWORK_SYNONYMS[word] ?? word);
  if (value === undefined) throw new InvalidArgumentError(`expected one of ${frameworkNames().join(", ")}`);
  return value;
}

/** `pytorch`, `onnx`, ... (lower case, without the prefix). */
export function frameworkNames(): string[] {
  return enumWords(FrameworkSchema);
}

/** `f1=0.88` -> { name: "f1", value: 0.88 }. */
export function parseMetric(text: string): Metric {
  const eq = text.indexOf("=");
  const name = eq < 0 ? "" : text.slice(0, eq).trim();
  const raw = eq < 0 ? "" : text.slice(eq + 1).trim();
  const value = Number(raw);
  if (name === "" || raw === "" || !Number.isFinite(value)) throw new InvalidArgumentError("expected name=number, e.g. f1=0.88");
  return { name, value };
}

export function collectMetric(text: string, previous: Metric[] = []): Metric[] {
  return [...previous, parseMetric(text)];
}

/** The flags both commands take. */
export function withMetadataOptions(command: Command, kind: "create" | "update"): Command {
  command
    .addOption(new Option("--framework <name>", `framework or format of the files: ${frameworkNames().join(", ")}`).argParser(parseFramework))
    .addOption(new Option("--runtime <runtime>", "runtime it runs on, e.g. python3.11"))
    .addOption(new Option("--algorithm <algorithm>", "algorithm, e.g. binary_classification"))
    .addOption(
      new Option("--metric <name=value>", `an evaluation metric; repeat for several${kind === "update" ? " (replaces every metric)" : ""}`).argParser<Metric[]>(collectMetric),
    )
    .addOption(new Option("--readme <file>", "a Markdown readme, read from the file"))
    .addOption(
      new Option("--metadata <file.json>", "any other fields: a Version in proto JSON, e.g. {\"interface\": {...}, \"dependencies\": [...]} (flags win over it)"),
    );
  if (kind === "create") {
    command
      .addOption(new Option("--data-version <version>", "version of the data set it was trained on (lineage.data_version)"))
      .addOption(new Option("--source-location <uri>", "where the model came from, e.g. s3://bucket/run-42/ (lineage.source_location)"));
  } else {
    command
      .addOption(new Option("--archive", "archive the version: hidden from lists, no aliases").conflicts("unarchive"))
      .addOption(new Option("--unarchive", "make an archived version active again"))
      // Lineage is fixed at creation: say so instead of an unknown-option error.
      .addOption(new Option("--data-version <version>").hideHelp())
      .addOption(new Option("--source-location <uri>").hideHelp());
  }
  return command;
}

/** The fields the flags set, and their update-mask paths (proto field names). */
export async function metadataFromFlags(flags: MetadataFlags, io: Io, kind: "create" | "update"): Promise<{ version: Version; paths: string[] }> {
  if (kind === "update" && (flags.dataVersion !== undefined || flags.sourceLocation !== undefined)) {
    throw new UsageError("--data-version and --source-location are lineage, which is fixed when a version is created: give them to versions create");
  }
  const paths: string[] = [];
  let version = create(VersionSchema);
  if (flags.metadata !== undefined) {
    const fragment = await readJson(flags.metadata, io);
    try {
      version = fromJson(VersionSchema, fragment);
    } catch (e) {
      throw new UsageError(`${flags.metadata}: not a Version in proto JSON: ${(e as Error).message}`);
    }
    paths.push(...Object.keys(fragment as object).map(protoFieldName));
  }
  const set = (path: string, apply: () => void) => {
    apply();
    if (!paths.includes(path)) paths.push(path);
  };
  if (flags.framework !== undefined) set("framework", () => (version.framework = flags.framework!));
  if (flags.runtime !== undefined) set("runtime", () => (version.runtime = flags.runtime!));
  if (flags.algorithm !== undefined) set("algorithm", () => (version.algorithm = flags.algorithm!));
  if (flags.metric?.length) set("metrics", () => (version.metrics = metricMap(flags.metric!)));
  if (flags.readme !== undefined) {
    const readme = await readText(flags.readme, io);
    set("readme", () => (version.readme = readme));
  }
  if (flags.dataVersion !== undefined || flags.sourceLocation !== undefined) {
    set("lineage", () => {
      version.lineage ??= create(LineageSchema);
      if (flags.dataVersion !== undefined) version.lineage.dataVersion = flags.dataVersion;
      if (flags.sourceLocation !== undefined) version.lineage.sourceLocation = flags.sourceLocation;
    });
  }
  if (flags.archive || flags.unarchive) set("lifecycle", () => (version.lifecycle = flags.archive ? Lifecycle.ARCHIVED : Lifecycle.ACTIVE));
  return { version, paths };
}

/** The metrics as a map; a name given twice is a mistake. */
export function metricMap(metrics: Metric[]): Record<string, number> {
  return mapOnce("metric", metrics.map(({ name, value }) => [name, value]));
}

/** A JSON key of a Version (`initialConfig` or `initial_config`) as the proto field name the update mask takes. */
export function protoFieldName(key: string): string {
  const field = VersionSchema.fields.find((f) => f.jsonName === key || f.name === key);
  return field?.name ?? key;
}

export async function readText(path: string, io: Io): Promise<string> {
  const full = io.cwd ? resolve(io.cwd, path) : resolve(path);
  try {
    return await readFile(full, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

/** A file's JSON; not JSON (or not an object) is a usage error naming the file. */
export async function readJson(path: string, io: Io): Promise<JsonValue> {
  const text = await readText(path, io);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not JSON: ${(e as Error).message}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new UsageError(`${path} must hold a JSON object`);
  return doc as JsonValue;
}
