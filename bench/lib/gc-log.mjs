// Preload (node --import) that records this process's GC pauses and writes
// them to $GC_LOG as JSON at exit: [[start epoch ms, duration ms, kind], ...]
// (kind: 1 minor/scavenge, 4 major/mark-compact, 8 incremental marking,
// 16 weak callbacks). Used by bench/search/tail.ts on the server process.
import { writeFileSync } from "node:fs";
import { PerformanceObserver, performance } from "node:perf_hooks";

const pauses = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) pauses.push([performance.timeOrigin + e.startTime, e.duration, e.detail?.kind ?? 0]);
}).observe({ entryTypes: ["gc"] });
process.on("exit", () => {
  if (process.env.GC_LOG) writeFileSync(process.env.GC_LOG, JSON.stringify(pauses));
});
