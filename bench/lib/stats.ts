// Percentiles over latency samples, and plain-text tables.

/** Nearest-rank percentile (p in 0..100) of ascending-sorted samples; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Summary {
  calls: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Summary of successful calls' latencies (ms) over `seconds` of wall time. */
export function summarize(latenciesMs: ArrayLike<number>, seconds: number): Summary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return { calls: sorted.length, perSecond: seconds > 0 ? sorted.length / seconds : NaN, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** Median of the finite values (the mean of the middle two for an even count); NaN when none. */
export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Fixed-point number, or "—" for NaN/undefined. */
export function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Renders rows as an aligned table; columns whose header starts with ">" are right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const right = headers.map((h) => h.startsWith(">"));
  const heads = headers.map((h) => (h.startsWith(">") ? h.slice(1) : h));
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(heads), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
