// How a place in params is named in a violation: `params.image_shape[1]`,
// `params["odd key"]`, and how a value is quoted in a message.
import { printable } from "../../shared/validation.js";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `prefix.key`, or `prefix["odd key"]` for a key that is not an identifier. */
export function keyPath(prefix: string, key: string): string {
  return IDENTIFIER.test(key) ? `${prefix}.${key}` : `${prefix}[${JSON.stringify(printable(key, 60))}]`;
}

/** The segments of a JSON pointer (`/image_shape/1` → ["image_shape", "1"]). */
export function pointerSegments(pointer: string): string[] {
  return pointer === "" ? [] : pointer.split("/").slice(1).map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** The field of a JSON pointer into `data`: array positions as `[i]`, object keys as `.key`. */
export function pointerPath(prefix: string, pointer: string, data: unknown): string {
  let path = prefix;
  let at = data;
  for (const segment of pointerSegments(pointer)) {
    if (Array.isArray(at)) {
      path += `[${segment}]`;
      at = at[Number(segment)];
    } else {
      path = keyPath(path, segment);
      at = at !== null && typeof at === "object" && Object.hasOwn(at, segment) ? (at as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

/** A value as quoted in a message, shortened. */
export function show(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return printable(json, 60);
}
