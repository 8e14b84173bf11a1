// What the task commands read from their flags: params (`--set key=value`,
// `--params-file`), task types, GPU memory sizes and durations. The CLI only
// parses; the server checks each param against the template and names any
// that does not fit (`params.num_epochs`).
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { type TaskType, TaskTypeSchema } from "@modelreg/sdk";
import { InvalidArgumentError } from "commander";
import { enumWord, enumWords, parseEnumWord } from "./enum-words.js";
import { UsageError } from "./exit-codes.js";
import type { Io } from "./io.js";
import { readJson } from "./version-metadata.js";

export interface ParamSetting {
  key: string;
  value: JsonValue;
}

/**
 * `num_epochs=20` -> { key: "num_epochs", value: 20 }. The value is JSON
 * when it parses as JSON (`20`, `true`, `[2,3]`, `{"a":1}`, `"20"`),
 * otherwise the text as a string (`model=MobileNetV2`); `key=` is "".
 */
export function parseSetting(text: string): ParamSetting {
  const eq = text.indexOf("=");
  if (eq < 0) throw new InvalidArgumentError("expected key=value, e.g. num_epochs=20 or lr_decay_epochs=[2,3]");
  const key = text.slice(0, eq).trim();
  if (key === "") throw new InvalidArgumentError("the param name is empty; expected key=value, e.g. num_epochs=20");
  const raw = text.slice(eq + 1);
  let value: JsonValue = raw;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    // Not JSON: the text itself.
  }
  return { key, value };
}

/** Commander reducer for a repeatable --set. */
export function collectSetting(text: string, previous: ParamSetting[] = []): ParamSetting[] {
  return [...previous, parseSetting(text)];
}

export interface ParamFlags {
  set?: ParamSetting[];
  paramsFile?: string;
}

/** The params the flags give: the file's object, then each --set over it; undefined when neither was given. */
export async function paramsFromFlags(flags: ParamFlags, io: Io): Promise<JsonObject | undefined> {
  const settings = flags.set ?? [];
  if (flags.paramsFile === undefined && settings.length === 0) return undefined;
  const params: JsonObject = flags.paramsFile !== undefined ? ((await readJson(flags.paramsFile, io)) as JsonObject) : {};
  const seen = new Set<string>();
  for (const { key, value } of settings) {
    if (seen.has(key)) throw new UsageError(`--set ${key} is given more than once`);
    seen.add(key);
    params[key] = value;
  }
  return params;
}

/** `train`, `evaluate`, `prune-analysis`, ...: the CLI's words for task types. */
export function taskTypeWords(): string[] {
  return enumWords(TaskTypeSchema).map((w) => w.replace(/_/g, "-"));
}

/** `prune-analysis` for TaskType.PRUNE_ANALYSIS; `-` for none. */
export function taskTypeWord(type: TaskType): string {
  return enumWord(TaskTypeSchema, type).replace(/_/g, "-");
}

/** Commander parser of --type: `prune-analysis`, `PRUNE_ANALYSIS`, `TASK_TYPE_PRUNE_ANALYSIS`. */
export function parseTaskType(text: string): TaskType {
  const value = parseEnumWord(TaskTypeSchema, text);
  if (value === undefined) throw new InvalidArgumentError(`expected one of ${taskTypeWords().join(", ")}`);
  return value as TaskType;
}

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** `8GiB`, `8 GB`, `512MiB`, `1073741824` -> bytes (whole). */
export function parseBytes(text: string): bigint {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError("expected a size such as 8GiB, 16GB or 512MiB");
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError("that size is too large");
  return BigInt(bytes);
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `500ms`, `2m`, `1m30s`; a bare number is seconds. */
export function parseDuration(text: string): number {
  const value = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (!/^(\d+(ms|s|m|h))+$/.test(value)) throw new InvalidArgumentError("expected a duration such as 30s, 500ms or 2m");
  let ms = 0;
  for (const [, n, unit] of value.matchAll(/(\d+)(ms|s|m|h)/g)) ms += Number(n) * DURATION_MS[unit!]!;
  return ms;
}

/** Commander parser of a whole number from 0. */
export function wholeNumber(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a whole number from 0");
  return n;
}
