// Ajv's errors as field violations a person can act on: the field named as
// a path (`params.image_shape[1]`), what is wrong with the value, and what
// the schema expects there (type, allowed values, range, length). One
// violation per field: where a field breaks several keywords, the schema's
// expectation already says everything it needs.
import type { ErrorObject } from "ajv";
import type { FieldViolation } from "../../shared/errors.js";
import { printable } from "../../shared/validation.js";
import { conditions, isPlainObject, type Json } from "./fill.js";
import { keyPath, pointerPath, pointerSegments, show } from "./paths.js";

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number" && !Number.isInteger(value)) return "a number with a fraction";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

const TYPE_NAMES: Record<string, string> = {
  integer: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "an array",
  object: "an object",
  null: "null",
};

function range(s: Json): string {
  const low = typeof s.exclusiveMinimum === "number" ? `greater than ${s.exclusiveMinimum}` : typeof s.minimum === "number" ? `at least ${s.minimum}` : "";
  const high = typeof s.exclusiveMaximum === "number" ? `less than ${s.exclusiveMaximum}` : typeof s.maximum === "number" ? `at most ${s.maximum}` : "";
  if (typeof s.minimum === "number" && typeof s.maximum === "number") return `from ${s.minimum} to ${s.maximum}`;
  return [low, high].filter(Boolean).join(" and ");
}

function length(s: Json, unit: string, min: string, max: string): string {
  const lo = typeof s[min] === "number" ? (s[min] as number) : undefined;
  const hi = typeof s[max] === "number" ? (s[max] as number) : undefined;
  const units = (n: number) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (lo !== undefined && lo === hi) return `of exactly ${units(lo)}`;
  if (lo !== undefined && lo > 0 && hi !== undefined) return `of ${lo} to ${units(hi)}`;
  if (hi !== undefined) return `of at most ${units(hi)}`;
  return lo !== undefined && lo > 0 ? `of at least ${units(lo)}` : "";
}

/** What a (sub)schema expects, e.g. "an array of exactly 2 items, each an integer from 32 to 8192". */
export function expectation(s: Json, depth = 0): string {
  if (Array.isArray(s.enum)) return `one of ${s.enum.map(show).join(", ")}`;
  if (Object.hasOwn(s, "const")) return `exactly ${show(s.const)}`;
  const types = (Array.isArray(s.type) ? s.type : [s.type]).filter((t): t is string => typeof t === "string");
  const parts = [types.map((t) => TYPE_NAMES[t] ?? t).join(" or ") || "a value"];
  parts.push(range(s));
  if (typeof s.multipleOf === "number") parts.push(`a multiple of ${s.multipleOf}`);
  parts.push(length(s, "item", "minItems", "maxItems"), length(s, "character", "minLength", "maxLength"));
  if (typeof s.pattern === "string") parts.push(`matching ${printable(s.pattern, 60)}`);
  const items = s.items;
  if (isPlainObject(items) && depth < 2) parts.push(`each ${expectation(items, depth + 1)}`);
  if (s.uniqueItems === true) parts.push("no item repeated");
  return parts.filter(Boolean).join(", ").replace(/^(an? \w+), (from|at|greater|less|of)/, "$1 $2");
}

/** What is wrong with the value, by the keyword it broke. */
function problem(e: ErrorObject): string {
  const data: unknown = e.data;
  switch (e.keyword) {
    case "type":
      if (data === null) return "is null (leave the parameter out to get its default)";
      return typeof data === "number" && e.params.type === "integer" ? `${show(data)} is not a whole number` : `${show(data)} is ${kindOf(data)}`;
    case "enum": {
      const values = Array.isArray(e.params.allowedValues) ? e.params.allowedValues.filter((v): v is string => typeof v === "string") : [];
      const near = typeof data === "string" ? nearValue(data, values) : undefined;
      return `${show(data)} is not allowed${near ? ` (did you mean ${show(near)}?)` : ""}`;
    }
    case "const":
      return `${show(data)} is not allowed`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `${show(data)} is out of range`;
    case "multipleOf":
      return `${show(data)} is not a multiple of ${e.params.multipleOf}`;
    case "minItems":
    case "maxItems":
      return `has ${Array.isArray(data) ? data.length : "?"} item${Array.isArray(data) && data.length === 1 ? "" : "s"}`;
    case "uniqueItems":
      return `items ${Math.min(e.params.i, e.params.j)} and ${Math.max(e.params.i, e.params.j)} are the same`;
    case "minLength":
    case "maxLength":
      return `is ${typeof data === "string" ? [...data].length : "?"} characters long`;
    case "pattern":
      return `${show(data)} does not match`;
    default:
      return `${show(data)} ${e.message ?? "is not valid"}`;
  }
}

/** "when model is "YOLOv3"" for an error inside an allOf branch's `then`. */
function context(schema: Json, e: ErrorObject): string {
  const m = /^#\/allOf\/(\d+)\/then\//.exec(e.schemaPath);
  if (!m) return "";
  const branch = conditions(schema).find((c) => c.index === Number(m[1]));
  const wanted = isPlainObject(branch?.condition.properties) ? branch.condition.properties : {};
  const said = Object.entries(wanted).map(([key, sub]) => {
    if (isPlainObject(sub) && Object.hasOwn(sub, "const")) return `${key} is ${show(sub.const)}`;
    if (isPlainObject(sub) && Array.isArray(sub.enum)) return `${key} is one of ${sub.enum.map(show).join(", ")}`;
    return `${key} matches the template's condition`;
  });
  return said.length > 0 ? ` when ${said.join(" and ")}` : " under a condition of the template";
}

/** The closest known key to a misspelt one, if any is close. */
function suggestion(key: string, known: string[], most = Math.max(2, Math.floor(key.length / 4))): string | undefined {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row = next;
    }
    return row[b.length]!;
  };
  const best = known.map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= most ? best.k : undefined;
}

/** For a closed set of names, only a near certain guess: one letter off, another case, or the only name it begins. */
function nearValue(value: string, values: string[]): string | undefined {
  const lower = value.toLowerCase();
  const started = values.filter((v) => v.toLowerCase().startsWith(lower));
  if (lower.length >= 3 && started.length === 1) return started[0];
  return suggestion(value, values, 1);
}

function unknownKey(schema: Json, key: string): string {
  const known = isPlainObject(schema.properties) ? Object.keys(schema.properties) : [];
  const near = suggestion(key, known);
  if (near) return `is not a parameter of this template; did you mean ${near}?`;
  if (known.length <= 12) return `is not a parameter of this template; its parameters are ${known.join(", ")}`;
  return `is not a parameter of this template (see the template's schema for its ${known.length} parameters)`;
}

/** A violation with the top-level parameter it is about. */
export interface KeyedViolation extends FieldViolation {
  key: string;
}

/** One violation per field, in the order ajv found them; an error inside a conditional branch is the more specific, so it wins. */
export function toViolations(schema: Json, errors: ErrorObject[], prefix: string, data: unknown): KeyedViolation[] {
  const byField = new Map<string, { key: string; description: string; conditional: boolean }>();
  for (const e of errors) {
    if (e.keyword === "if") continue; // restated by the branch's own errors
    const at = pointerPath(prefix, e.instancePath, data);
    const parent = isPlainObject(e.parentSchema) ? e.parentSchema : {};
    let field = at;
    let key = pointerSegments(e.instancePath)[0] ?? "";
    let description: string;
    if (e.keyword === "additionalProperties") {
      field = keyPath(at, String(e.params.additionalProperty));
      key ||= String(e.params.additionalProperty);
      description = unknownKey(parent, String(e.params.additionalProperty));
    } else if (e.keyword === "required") {
      field = keyPath(at, String(e.params.missingProperty));
      key ||= String(e.params.missingProperty);
      description = "is required";
    } else {
      description = `${problem(e)}${context(schema, e)}; expected ${expectation(parent)}`;
    }
    const conditional = /^#\/allOf\/\d+\/then\//.test(e.schemaPath);
    const seen = byField.get(field);
    if (!seen || (conditional && !seen.conditional)) byField.set(field, { key, description, conditional });
  }
  return [...byField].map(([field, v]) => ({ field, key: v.key, description: v.description }));
}
