// `--label key=value`, repeatable. The CLI only splits the text; the server
// checks the key and value rules and names any bad label in its answer.
import { InvalidArgumentError } from "commander";
import { UsageError } from "./exit-codes.js";

export interface Label {
  key: string;
  value: string;
}

/** `team=risk` -> { key: "team", value: "risk" }. The value may be empty and may contain `=`. */
export function parseLabel(text: string): Label {
  const eq = text.indexOf("=");
  if (eq < 0) throw new InvalidArgumentError(`expected key=value, e.g. team=risk`);
  const key = text.slice(0, eq).trim();
  if (key === "") throw new InvalidArgumentError(`the label key is empty; expected key=value, e.g. team=risk`);
  return { key, value: text.slice(eq + 1) };
}

/** Commander reducer for a repeatable --label option. */
export function collectLabel(text: string, previous: Label[] = []): Label[] {
  return [...previous, parseLabel(text)];
}

/** The labels as a map; a key given twice is a mistake, not a silent overwrite. */
export function labelMap(labels: Label[]): Record<string, string> {
  return mapOnce("label", labels.map(({ key, value }) => [key, value]));
}

/** Entries of a repeatable flag as a map; a name given twice is a usage error naming `what` (label, metric). */
export function mapOnce<V>(what: string, entries: [string, V][]): Record<string, V> {
  const map: Record<string, V> = {};
  for (const [key, value] of entries) {
    if (Object.hasOwn(map, key)) throw new UsageError(`${what} "${key}" is given more than once`);
    map[key] = value;
  }
  return map;
}

/** `a=1,b=2`, keys sorted; empty string for no labels. */
export function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}
