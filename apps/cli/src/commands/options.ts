// Options shared by several commands, defined once so they read the same
// everywhere.
import { type Command, InvalidArgumentError, Option } from "commander";
import { collectLabel, labelMap, type Label } from "../labels.js";

export const descriptionOption = () => new Option("--description <text>", "free-text description");

export const labelOption = () =>
  new Option("--label <key=value>", "a label; repeat for several (on update: replaces every label)").argParser<Label[]>(collectLabel);

export const clearLabelsOption = () => new Option("--clear-labels", "remove every label");

export const etagOption = (what: string) => new Option("--etag <etag>", `only ${what} if the etag is still current (else exit 20)`);

export const limitOption = () => new Option("--limit <n>", "print at most n items").argParser(positiveInt);

export const pageSizeOption = () => new Option("--page-size <n>", "items fetched per request (server default 50, max 1000)").argParser(positiveInt);

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

export const filterOption = (example: string) => new Option("--filter <expr>", `which items to list (AIP-160), e.g. ${example}`);

export const orderByOption = (fields: string) => new Option("--order-by <order>", `order of the list: ${fields}`);

export interface SearchFlags {
  filter?: string;
  orderBy?: string;
}

export interface ListFlags {
  limit?: number;
  pageSize?: number;
}

/** The page size to ask for: as given, or no more than the limit needs. */
export function pageSizeFor(flags: ListFlags): number | undefined {
  if (flags.pageSize !== undefined) return flags.pageSize;
  return flags.limit !== undefined ? Math.min(flags.limit, 1000) : undefined;
}

/** Collects an async iterable, stopping after `limit` items (no extra page fetched). */
export async function take<T>(items: AsyncIterable<T>, limit?: number): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    out.push(item);
    if (limit !== undefined && out.length >= limit) break;
  }
  return out;
}

/** The description and labels a create command sends, from its flags. */
export function createFields(flags: { description?: string; label?: Label[] }): { description: string; labels: Record<string, string> } {
  return { description: flags.description ?? "", labels: labelMap(flags.label ?? []) };
}

/** The flags of an update command: --description, --label, --clear-labels, --etag. */
export function withUpdateOptions(command: Command): Command {
  return command.addOption(descriptionOption()).addOption(labelOption()).addOption(clearLabelsOption()).addOption(etagOption("update"));
}
