// update_mask handling shared by every Update RPC.
import { InvalidArgumentError } from "./errors.js";

/** Returns the set of fields to change; `*` means every updatable field. */
export function resolveUpdateMask<T extends string>(paths: string[], updatable: readonly T[]): Set<T> {
  if (paths.length === 0)
    throw InvalidArgumentError.field("update_mask", `is required: name the fields to change (${updatable.join(", ")}, or * for all)`);
  if (paths.includes("*")) return new Set(updatable);
  const bad = paths.filter((p) => !(updatable as readonly string[]).includes(p));
  if (bad.length > 0)
    throw new InvalidArgumentError(
      bad.map((p) => ({ field: "update_mask", description: `"${p}" cannot be updated; updatable fields are ${updatable.join(", ")}` })),
    );
  return new Set(paths as T[]);
}
