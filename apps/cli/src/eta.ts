// The rate and time left shown beside a progress bar, from bytes moved in
// this run only (bytes a resumed transfer found in place do not count), over
// a sliding window so that a stall shows as a falling rate. Nothing is shown
// until there is enough to estimate from, and never a time that is
// negative, infinite or absurd: then the ETA is simply not shown.

/** Least time and bytes moved before a rate is trusted. */
export const MIN_ELAPSED_MS = 1_000;
export const MIN_MOVED_BYTES = 64 << 10;
/** The rate is measured over the last this many milliseconds. */
export const WINDOW_MS = 10_000;
/** Below this many bytes per second the transfer is as good as stalled: no ETA. */
export const MIN_RATE = 1;
/** An ETA longer than this is not an estimate worth showing. */
export const MAX_ETA_SECONDS = 100 * 3600;

export interface Estimate {
  /** Bytes per second over the window; undefined until trusted. */
  rate: number | undefined;
  /** Seconds left; undefined when not known or not believable. */
  etaSeconds: number | undefined;
}

export interface RateMeter {
  /** Records how far the transfer is at `ms` (a monotonic clock) and estimates. */
  sample(bytesDone: number, bytesTotal: number, ms: number): Estimate;
}

/** A meter whose first sample is its baseline (where this run started). */
export function createRateMeter(): RateMeter {
  let samples: { ms: number; bytes: number }[] = [];
  let start: { ms: number; bytes: number } | undefined;
  return {
    sample(bytesDone, bytesTotal, ms) {
      const last = samples.at(-1);
      // The first report, or the count went back (a file started over): a new baseline.
      if (!start || !last || bytesDone < last.bytes || ms < last.ms) {
        start = { ms, bytes: bytesDone };
        samples = [start];
        return { rate: undefined, etaSeconds: undefined };
      }
      samples.push({ ms, bytes: bytesDone });
      // Keep one sample at or before the window's start, so the window is always full once it can be.
      while (samples.length > 2 && samples[1]!.ms <= ms - WINDOW_MS) samples.shift();
      if (ms - start.ms < MIN_ELAPSED_MS || bytesDone - start.bytes < MIN_MOVED_BYTES) return { rate: undefined, etaSeconds: undefined };
      const first = samples[0]!;
      const rate = ((bytesDone - first.bytes) * 1000) / (ms - first.ms);
      return { rate, etaSeconds: eta(Math.max(0, bytesTotal - bytesDone), rate) };
    },
  };
}

/** Seconds to move `left` bytes at `rate`, or undefined when that is not a sensible number. */
export function eta(left: number, rate: number): number | undefined {
  if (left <= 0) return 0;
  if (!Number.isFinite(rate) || rate < MIN_RATE) return undefined;
  const seconds = left / rate;
  return Number.isFinite(seconds) && seconds <= MAX_ETA_SECONDS ? Math.ceil(seconds) : undefined;
}

/** `45s`, `3m07s`, `2h05m`; `-` when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
