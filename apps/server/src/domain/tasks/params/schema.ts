// A task's params against its template: defaults filled in, then every
// violation at once (unknown keys, wrong types, ranges, and the rules that
// tie fields together), each named by its path under `params`. And the
// check a workspace's own template schema passes when it is registered.
import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { type FieldViolation, InvalidArgumentError } from "../../shared/errors.js";
import { crossViolations } from "./cross-rules.js";
import { conditions, conditionValues, fillDefaults, isPlainObject, type Json } from "./fill.js";
import { type KeyedViolation, toViolations } from "./messages.js";
import { keyPath, show } from "./paths.js";
import { DRAFT_2020_12 } from "./properties.js";
import type { ParamTemplate } from "./templates.js";

/** The most JSON a template schema, or a task's given params, may take. */
export const PARAMS_JSON_MAX = 65_536;
const CACHED_MAX = 64;

// verbose: each error carries its value and the schema around it, which the messages quote.
const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, validateFormats: false });

const byObject = new WeakMap<object, ValidateFunction>();
// Workspace templates come from the database as new objects each time: keep the last few compiled by content.
const byText = new Map<string, ValidateFunction>();

function compile(schema: Json): ValidateFunction {
  try {
    return ajv.compile(schema);
  } finally {
    // Ajv would keep every schema (and its $id) for good: memory would grow, and a second schema with the same $id would be refused.
    ajv.removeSchema(schema);
  }
}

function compiled(schema: Json): ValidateFunction {
  const hit = byObject.get(schema);
  if (hit) return hit;
  const text = JSON.stringify(schema);
  let fn = byText.get(text);
  if (fn) byText.delete(text);
  else fn = compile(schema);
  byText.set(text, fn);
  for (const oldest of byText.keys()) {
    if (byText.size <= CACHED_MAX) break;
    byText.delete(oldest);
  }
  byObject.set(schema, fn);
  return fn;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "");
}

/** Every default of the template's schema, as a params object (deep copies). */
export function defaultParams(template: ParamTemplate): Record<string, unknown> {
  return fillDefaults(template.schema, {}).value;
}

/** The schema's and the cross-field rules' violations of complete params. */
function violations(schema: Json, validate: ValidateFunction, params: Json, prefix: string, skip?: (e: ErrorObject) => boolean): KeyedViolation[] {
  const errors = validate(params) ? [] : (validate.errors ?? []).filter((e) => !skip?.(e));
  const list = toViolations(schema, errors, prefix, params);
  const refused = new Set(list.map((v) => v.key));
  for (const c of crossViolations(params, (key) => refused.has(key))) list.push({ field: keyPath(prefix, c.key), key: c.key, description: c.description });
  return list;
}

const plain = (list: KeyedViolation[]): FieldViolation[] => list.map(({ field, description }) => ({ field, description }));

/**
 * Fills defaults into `given` and validates the result against the template. Refuses unknown keys and wrong types, naming
 * each field as `params.<key>` (nested: `params.image_shape[1]`), with a message that says what to fix (expected type,
 * allowed values, range). All violations at once, not only the first. Returns the filled params.
 */
export function resolveParams(template: ParamTemplate, given: Record<string, unknown>, fieldPrefix = "params"): Record<string, unknown> {
  if (!isPlainObject(given)) throw InvalidArgumentError.field(fieldPrefix, `is ${show(given)}; expected an object of parameters`);
  const bytes = jsonBytes(given);
  if (bytes > PARAMS_JSON_MAX) throw InvalidArgumentError.field(fieldPrefix, `is ${bytes} bytes as JSON; at most ${PARAMS_JSON_MAX}`);
  const { value } = fillDefaults(template.schema, given);
  const list = violations(template.schema, compiled(template.schema), value, fieldPrefix);
  if (list.length > 0) throw new InvalidArgumentError(plain(list));
  return value;
}

/** Validates a workspace's own template schema when it is registered: must be a JSON Schema object of type object with properties; every default must itself validate; at most 64 KiB of JSON; field name given for violations. */
export function checkTemplateSchema(schema: unknown, field: string): void {
  const list = templateViolations(schema, field);
  if (list.length > 0) throw new InvalidArgumentError(list);
}

function templateViolations(schema: unknown, field: string): FieldViolation[] {
  if (!isPlainObject(schema)) return [{ field, description: `is ${show(schema)}; expected a JSON Schema object: {"type": "object", "properties": {...}, "additionalProperties": false}` }];
  const bytes = jsonBytes(schema);
  if (bytes > PARAMS_JSON_MAX) return [{ field, description: `is ${bytes} bytes as JSON; at most ${PARAMS_JSON_MAX}` }];
  const declared = schema.$schema;
  if (declared !== undefined && (typeof declared !== "string" || declared.replace(/#$/, "") !== DRAFT_2020_12))
    return [{ field: `${field}.$schema`, description: `${show(declared)} is not draft 2020-12; expected "${DRAFT_2020_12}", or no $schema` }];
  if (schema.$async !== undefined) return [{ field: `${field}.$async`, description: "is not allowed: params are checked synchronously" }];
  if (!ajv.validateSchema(schema)) return metaViolations(ajv.errors ?? [], field);
  const shape = shapeViolations(schema, field);
  if (shape.length > 0) return shape;
  let validate: ValidateFunction;
  try {
    validate = compiled(schema);
  } catch (err) {
    return [{ field, description: `is not a usable JSON Schema: ${(err as Error).message.slice(0, 300)}` }];
  }
  return defaultViolations(schema, validate, field);
}

/** Where a schema breaks the JSON Schema meta-schema: one violation per place, at its path inside the schema. */
function metaViolations(errors: ErrorObject[], field: string): FieldViolation[] {
  const byPath = new Map<string, string>();
  for (const e of errors) {
    if (e.keyword === "anyOf" || e.keyword === "oneOf" || e.keyword === "if") continue;
    const at = e.instancePath.split("/").slice(1).reduce((path, seg) => (/^\d+$/.test(seg) ? `${path}[${seg}]` : keyPath(path, seg.replaceAll("~1", "/").replaceAll("~0", "~"))), field);
    const allowed = Array.isArray(e.params.allowedValues) ? `: ${e.params.allowedValues.map(show).join(", ")}` : "";
    if (!byPath.has(at)) byPath.set(at, `is not valid JSON Schema (draft 2020-12): ${e.message ?? "invalid"}${allowed}`);
  }
  return [...byPath].map(([f, description]) => ({ field: f, description }));
}

/** A params schema: an object, with properties, closed to other keys. */
function shapeViolations(schema: Json, field: string): FieldViolation[] {
  const list: FieldViolation[] = [];
  if (schema.type !== "object") list.push({ field: `${field}.type`, description: `is ${show(schema.type)}; expected "object" (params are an object of named parameters)` });
  if (!isPlainObject(schema.properties) || Object.keys(schema.properties).length === 0)
    list.push({ field: `${field}.properties`, description: "is missing or empty; expected one entry per parameter, each a schema with a description and a default" });
  if (schema.additionalProperties !== false)
    list.push({ field: `${field}.additionalProperties`, description: `is ${show(schema.additionalProperties)}; expected false, so that a misspelt parameter is refused instead of ignored` });
  return list;
}

/**
 * The defaults filled as a task without params would get them, and again
 * for each value a conditional branch names (so the defaults of every
 * branch are checked): each violation names where the bad default is.
 */
function defaultViolations(schema: Json, validate: ValidateFunction, field: string): FieldViolation[] {
  const cases: { given: Json; where: string }[] = [{ given: {}, where: "" }];
  for (const c of conditions(schema)) {
    const wanted = conditionValues(c.condition);
    if (!wanted) continue;
    const entries = Object.entries(wanted);
    const first = Object.fromEntries(entries.map(([key, values]) => [key, values[0]]));
    const [only] = entries;
    if (entries.length === 1 && only) for (const value of only[1]) cases.push({ given: { [only[0]]: value }, where: `allOf[${c.index}].if` });
    else cases.push({ given: first, where: `allOf[${c.index}].if` });
  }
  // A required parameter without a default is for the caller to give, not a fault of the defaults.
  const callerGives = (e: ErrorObject) => e.keyword === "required" && e.instancePath === "";
  const out = new Map<string, string>();
  for (const c of cases) {
    const filled = fillDefaults(schema, c.given);
    for (const v of violations(schema, validate, filled.value, "", callerGives)) {
      const rest = v.field.slice(keyPath("", v.key).length);
      const source = filled.sources.get(v.key);
      const at = source ? `${field}.${source}${rest}` : c.where ? `${field}.${c.where}` : field;
      if (!out.has(at)) out.set(at, `the default ${v.description}`);
    }
  }
  return [...out].map(([f, description]) => ({ field: f, description }));
}
