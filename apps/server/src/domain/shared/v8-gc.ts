// V8's gc function, made for tests, which Node gives only to a process
// started with --expose-gc: taken from a fresh context created while the
// flag is set, and the flag reset at once, so no other context sees it.
// Node has no other API to ask for a collection.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export type Collect = (options: { type: "minor" | "major" }) => void;

/** V8's gc function; null when this V8 would not give it. */
let collect: Collect | null | undefined;

export function v8Collector(): Collect | null {
  if (collect !== undefined) return collect;
  try {
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("typeof gc === 'function' ? gc : null") as Collect | null;
  } catch {
    collect = null;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
  return collect;
}
