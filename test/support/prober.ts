// A legitimate caller that keeps calling GetVersion while a test attacks the
// server, and how long its calls took: the attack suites check that it keeps
// being answered (a generous bound that catches a stall) and print the 99th
// percentile for the record. It runs in a process of its own
// (probe-process.mjs), so the attack the test process makes does not delay
// the caller's own event loop and inflate its figures.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface ProbeReport {
  calls: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface Prober {
  /** Calls answered or failed so far. */
  readonly calls: number;
  /** Stops after the call in flight and reports. */
  stop(): Promise<ProbeReport>;
}

/** Starts calling GetVersion for `versionName`: "h2" on one HTTP/2 connection, "h1-fresh" on a new HTTP/1.1 connection each time. */
export function startProbing(url: string, versionName: string, mode: "h2" | "h1-fresh"): Prober {
  const child = spawn(process.execPath, [join(import.meta.dirname, "probe-process.mjs"), url, versionName, mode], { stdio: ["pipe", "pipe", "inherit"] });
  const latencies: number[] = [];
  let failures = 0;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const { ms, ok } = JSON.parse(line) as { ms: number; ok: boolean };
    latencies.push(ms);
    if (!ok) failures++;
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    get calls() {
      return latencies.length;
    },
    async stop() {
      child.stdin!.end();
      await exited;
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : 0);
      return { calls: sorted.length, failures, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.at(-1) ?? 0 };
    },
  };
}

/** Prints a probe report in one line, for the record of an attack test. */
export function printReport(attack: string, r: ProbeReport): void {
  console.info(`[GetVersion during ${attack}] calls=${r.calls} failures=${r.failures} p50=${r.p50Ms}ms p99=${r.p99Ms}ms max=${r.maxMs}ms`);
}
