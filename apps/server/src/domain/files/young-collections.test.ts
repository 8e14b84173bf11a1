// The young collections uploads ask for: one per YOUNG_COLLECTION_BYTES of
// network bytes counted, seen as V8 reports them (perf_hooks gc entries).
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { expect, it } from "vitest";
import { networkBytesRead, YOUNG_COLLECTION_BYTES } from "./young-collections.js";

it("runs a young-generation collection for every YOUNG_COLLECTION_BYTES of network bytes", async () => {
  const seen: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  observer.observe({ entryTypes: ["gc"] });
  try {
    // 20 × the threshold, in chunks of a quarter: 20 collections asked for.
    for (let i = 0; i < 80; i++) networkBytesRead(YOUNG_COLLECTION_BYTES / 4);
    const minor = () => seen.filter((e) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR).length;
    // The observer hears of collections after they ran, within a few turns of
    // the event loop (too few for 20 collections of its own making).
    for (let turn = 0; turn < 100 && minor() < 20; turn++) await new Promise((r) => setImmediate(r));
    expect(minor()).toBeGreaterThanOrEqual(20);
  } finally {
    observer.disconnect();
  }
  // The flag that gave V8's gc function is off again: no context made later has `gc`.
  const { runInNewContext } = await import("node:vm");
  expect(runInNewContext("typeof gc")).toBe("undefined");
});
