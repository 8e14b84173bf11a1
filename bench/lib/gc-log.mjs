// GC pauses of this process, as [[start epoch ms, duration ms, kind], ...]
// (kind: 1 minor/scavenge, 4 major/mark-compact, 8 incremental marking,
// 16 weak callbacks). Imported, it records into `gcPauses`; preloaded into
// another process (node --import) with $GC_LOG set, it also writes them
// there as JSON at exit. Used by bench/search/tail.ts for both processes.
import { writeFileSync } from "node:fs";
import { PerformanceObserver, performance } from "node:perf_hooks";

export const gcPauses = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push([performance.timeOrigin + e.startTime, e.duration, e.detail?.kind ?? 0]);
}).observe({ entryTypes: ["gc"] });
process.on("exit", () => {
  if (process.env.GC_LOG) writeFileSync(process.env.GC_LOG, JSON.stringify(gcPauses));
});
