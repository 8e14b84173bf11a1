// The values an option's argument may take, for shell completion: the
// option's own choices when commander checks them, else the words given
// here (options whose parser accepts more, e.g. `-o` also takes a path on
// pull, or whose parser maps words to enum numbers).
import type { Option } from "commander";

const hinted = new WeakMap<Option, readonly string[]>();

/** Marks `option`'s argument as one of `values` for completion; returns the option. */
export function completeWith<O extends Option>(option: O, values: readonly string[]): O {
  hinted.set(option, values);
  return option;
}

/** The words that complete `option`'s argument; empty when it is free (a name, a path). */
export function completionValues(option: Option): readonly string[] {
  return option.argChoices ?? hinted.get(option) ?? [];
}
