// Field rules, written once. Each rule is restated in the proto comment of
// its field; keep the two in step.
import { InvalidArgumentError, type FieldViolation } from "./errors.js";

export const MODEL_ID = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
export const WORKSPACE_ID = /^[a-z][a-z0-9-]{0,62}$/;
export const DESCRIPTION_MAX = 1000;
export const LABELS_MAX = 64;
export const LABEL_KEY = /^[a-z][a-z0-9_./-]{0,62}$/;
export const LABEL_VALUE_MAX = 255;
// Control characters except tab (\x09) and newline (\x0a).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

/** Collects violations so one response can name every bad field. */
export class Violations {
  readonly list: FieldViolation[] = [];
  add(field: string, description: string): void {
    this.list.push({ field, description });
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
}

export function checkModelId(v: Violations, field: string, id: string): void {
  if (id === "") v.add(field, "is required: 1-64 characters, letters, digits, '-' and '_', starting with a letter");
  else if (!MODEL_ID.test(id))
    v.add(field, `"${printable(id)}" is not a valid model name: use 1-64 characters, letters, digits, '-' and '_', starting with a letter`);
}

export function checkDescription(v: Violations, field: string, text: string): void {
  if ([...text].length > DESCRIPTION_MAX) v.add(field, `is ${[...text].length} characters long; the limit is ${DESCRIPTION_MAX}`);
  if (CONTROL.test(text)) v.add(field, "contains control characters; only tab and newline are allowed");
}

export function checkLabels(v: Violations, field: string, labels: Record<string, string>): void {
  const keys = Object.keys(labels);
  if (keys.length > LABELS_MAX) v.add(field, `has ${keys.length} entries; the limit is ${LABELS_MAX}`);
  for (const key of keys) {
    if (!LABEL_KEY.test(key))
      v.add(`${field}[${JSON.stringify(printable(key))}]`, "key must be 1-63 characters: lowercase letters, digits, '_', '-', '.', '/', starting with a lowercase letter");
    const value = labels[key] ?? "";
    if ([...value].length > LABEL_VALUE_MAX) v.add(`${field}[${JSON.stringify(printable(key))}]`, `value is longer than ${LABEL_VALUE_MAX} characters`);
    if (CONTROL.test(value)) v.add(`${field}[${JSON.stringify(printable(key))}]`, "value contains control characters");
  }
}

/** A short free-text field: at most `max` characters, no control characters. */
export function checkText(v: Violations, field: string, text: string, max: number): void {
  if ([...text].length > max) v.add(field, `is ${[...text].length} characters long; the limit is ${max}`);
  if (/[\x00-\x1f\x7f]/.test(text)) v.add(field, "contains control characters");
}

/** Page size: 0 = default, capped at max, negative refused. */
export function checkPageSize(v: Violations, pageSize: number, def = 50, max = 1000): number {
  if (pageSize < 0) {
    v.add("page_size", "must not be negative (0 means the default of 50)");
    return def;
  }
  return pageSize === 0 ? def : Math.min(pageSize, max);
}

/** Shortens and escapes user text for echoing it inside an error message. */
export function printable(s: string, max = 80): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** Checks the description and labels every resource carries (when given). */
export function checkCommonFields(v: Violations, prefix: string, f: { description?: string; labels?: Record<string, string> }): void {
  if (f.description !== undefined) checkDescription(v, `${prefix}.description`, f.description);
  if (f.labels !== undefined) checkLabels(v, `${prefix}.labels`, f.labels);
}

const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A create's `request_id` (optional): what makes a retried create answer the first one's result. */
export function checkRequestId(v: Violations, requestId: string): void {
  if (requestId !== "" && !REQUEST_ID.test(requestId)) v.add("request_id", "is not a request id: 1-64 letters, digits, '-' and '_' (a UUID is a good choice)");
}

/** Runs a parse function, collecting its violations instead of throwing them. */
export function collect<T>(v: Violations, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof InvalidArgumentError)) throw e;
    v.list.push(...e.violations);
    return undefined;
  }
}
