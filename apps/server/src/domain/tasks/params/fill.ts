// Filling a template's defaults into given params. A default inside an
// `allOf` branch's `then` (e.g. the backbone of the model chosen) wins over
// the template-wide one when the branch's `if` holds, so choosing FasterRCNN
// alone brings its own backbone and image size. Conditions understood here
// are `properties` with `const` or `enum` (and `required`); a branch with
// any other `if` still validates, its defaults are just not filled.
import { keyPath } from "./paths.js";

export type Json = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Sets an own property, also for keys such as "__proto__" that assignment would not set. */
export function setOwn(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function own(target: Json, key: string): unknown {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}

function properties(schema: Json): Json {
  const p = own(schema, "properties");
  return isPlainObject(p) ? p : {};
}

/** The `if`/`then` branches of a schema's allOf, with their index. */
export function conditions(schema: Json): { index: number; condition: Json; branch: Json }[] {
  const all = own(schema, "allOf");
  if (!Array.isArray(all)) return [];
  return all.flatMap((branch, index) => {
    if (!isPlainObject(branch) || !isPlainObject(branch.if) || !isPlainObject(branch.then)) return [];
    return [{ index, condition: branch.if, branch: branch.then }];
  });
}

/** The values an `if` requires, when it is only `properties` with `const` or `enum`: `{ model: ["FasterRCNN"] }`. */
export function conditionValues(condition: Json): Record<string, unknown[]> | undefined {
  const out: Record<string, unknown[]> = {};
  for (const key of Object.keys(condition)) if (key !== "properties" && key !== "required") return undefined;
  for (const [key, sub] of Object.entries(properties(condition))) {
    if (!isPlainObject(sub)) return undefined;
    if (Object.hasOwn(sub, "const")) out[key] = [sub.const];
    else if (Array.isArray(sub.enum)) out[key] = sub.enum;
    else return undefined;
  }
  return out;
}

function holds(condition: Json, value: Json): boolean {
  const wanted = conditionValues(condition);
  if (wanted === undefined) return false;
  return Object.entries(wanted).every(([key, values]) => {
    const actual = own(value, key);
    return actual !== undefined && values.some((v) => JSON.stringify(v) === JSON.stringify(actual));
  });
}

export interface Filled {
  value: Json;
  /** For each key filled from a default, where that default is in the schema: `properties.backbone.default`, `allOf[2].then.properties.backbone.default`. */
  sources: Map<string, string>;
}

/** `given` with the schema's defaults filled in (deep copies; `given` is not changed). */
export function fillDefaults(schema: Json, given: Json): Filled {
  const value = structuredClone(given);
  const sources = new Map<string, string>();
  const fill = (key: string, sub: unknown, at: string) => {
    if (own(value, key) !== undefined || !isPlainObject(sub) || !Object.hasOwn(sub, "default")) return;
    setOwn(value, key, structuredClone(sub.default));
    sources.set(key, at);
  };
  // A condition is judged on what the params will be: the given values, else the template-wide defaults.
  const provisional: Json = {};
  for (const [key, sub] of Object.entries(properties(schema))) if (isPlainObject(sub) && Object.hasOwn(sub, "default")) setOwn(provisional, key, sub.default);
  for (const [key, v] of Object.entries(value)) if (v !== undefined) setOwn(provisional, key, v);
  for (const c of conditions(schema)) {
    if (!holds(c.condition, provisional)) continue;
    for (const [key, sub] of Object.entries(properties(c.branch))) fill(key, sub, `${keyPath(`allOf[${c.index}].then.properties`, key)}.default`);
  }
  for (const [key, sub] of Object.entries(properties(schema))) fill(key, sub, `${keyPath("properties", key)}.default`);
  for (const [key, sub] of Object.entries(properties(schema))) {
    const current = own(value, key);
    if (isPlainObject(sub) && isPlainObject(current) && isPlainObject(sub.properties)) setOwn(value, key, fillDefaults(sub, current).value);
  }
  return { value, sources };
}
