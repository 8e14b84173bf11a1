// `order_by` of list methods (AIP-132): one key, optionally `asc` or `desc`.
import { InvalidArgumentError } from "./errors.js";
import { printable } from "./validation.js";

export interface OrderBy {
  /** The key as allowed: `create_time`, or a map key's full path, `metrics.f1`. */
  field: string;
  /** For a map field (`metrics`): the key. */
  key?: string;
  desc: boolean;
}

/**
 * Parses `field [asc|desc]`; `fields` are the plain keys, `maps` the map
 * fields whose keys may follow a dot. Empty input gives `fallback`.
 */
export function parseOrderBy(text: string, fields: readonly string[], maps: readonly string[], fallback: OrderBy): OrderBy {
  const trimmed = text.trim();
  if (trimmed === "") return fallback;
  const allowed = [...fields, ...maps.map((m) => `${m}.<name>`)].join(", ");
  const m = /^([A-Za-z_][A-Za-z0-9_./-]*)(?:\s+(asc|desc))?$/i.exec(trimmed);
  if (!m) throw InvalidArgumentError.field("order_by", `"${printable(text)}" is not an ordering: give one of ${allowed}, optionally followed by asc or desc`);
  const field = m[1]!;
  const desc = (m[2] ?? "asc").toLowerCase() === "desc";
  if (fields.includes(field)) return { field, desc };
  for (const map of maps)
    if (field.startsWith(`${map}.`) && field.length > map.length + 1) return { field: map, key: field.slice(map.length + 1), desc };
  throw InvalidArgumentError.field("order_by", `cannot order by "${printable(field)}"; use one of ${allowed}`);
}
