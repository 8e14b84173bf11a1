// The progress bar of push and pull: bytes, rate and ETA on stderr, only
// when a person is looking (stderr is a terminal) and has not said
// otherwise (--quiet, MODELREG_NO_PROGRESS); otherwise nothing, so scripts
// and logs stay clean. Phases (hashing the local files, then sending) each
// get a fresh bar under their own label. The rate and ETA are this run's
// (eta.ts), not cli-progress's own.
import type { TransferProgress } from "@modelreg/sdk";
import { SingleBar } from "cli-progress";
import { createRateMeter, formatEta, type Estimate } from "./eta.js";
import type { Io } from "./io.js";
import { formatBytes } from "./render-files.js";

export interface ProgressBar {
  /** Pass as the SDK's onProgress. */
  onProgress(p: TransferProgress): void;
  /** Pass as the SDK's onHashProgress (push: the local sha256 pass). */
  onHashProgress(p: TransferProgress): void;
  /** Shows a short note beside the bar (e.g. a retry) until the next phase. */
  note(text: string): void;
  /** Removes the bar (call in finally). */
  stop(): void;
}

const quiet: ProgressBar = { onProgress: () => {}, onHashProgress: () => {}, note: () => {}, stop: () => {} };

export interface ProgressBarOptions {
  /** --quiet: no bar. */
  quiet?: boolean;
  /** A monotonic clock in milliseconds (tests give their own). */
  now?: () => number;
}

/** Whether MODELREG_NO_PROGRESS turns the bar off: any value but empty and 0. */
export function progressDisabled(env: Io["env"]): boolean {
  const value = env.MODELREG_NO_PROGRESS?.trim();
  return value !== undefined && value !== "" && value !== "0";
}

/** A bar labelled `label` (e.g. "push"), or a no-op when stderr is not a terminal, with --quiet, or with MODELREG_NO_PROGRESS. */
export function createProgressBar(io: Io, label: string, options: ProgressBarOptions = {}): ProgressBar {
  if (io.stderr.isTTY !== true || options.quiet || progressDisabled(io.env)) return quiet;
  const now = options.now ?? (() => performance.now());
  const bar = new SingleBar({
    stream: io.stderr as unknown as NodeJS.WritableStream,
    format: "{phase} {bar} {percentage}% | {done} / {size} | {rate} | ETA {left}{note}",
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    fps: 10,
  });
  let phase: string | undefined;
  let meter = createRateMeter();
  let note = "";
  const show = (name: string) => (p: TransferProgress) => {
    // Nothing to move in this phase (content the server holds already): no bar.
    if (p.bytesTotal === 0) return;
    // Small files hashed while large ones are sent: the send's bar stays.
    if (name === "sha256" && phase !== undefined && phase !== name) return;
    const total = p.bytesTotal;
    // A new phase measures from its own first report.
    if (phase !== name) meter = createRateMeter();
    const estimate = meter.sample(p.bytesDone, total, now());
    if (phase !== name) {
      if (phase !== undefined) bar.stop();
      phase = name;
      note = "";
      bar.start(total, p.bytesDone, payload(name, p, estimate));
      return;
    }
    if (total !== bar.getTotal()) bar.setTotal(total);
    bar.update(p.bytesDone, payload(name, p, estimate));
  };
  const payload = (name: string, p: TransferProgress, e: Estimate) => ({
    phase: name,
    done: formatBytes(p.bytesDone),
    size: formatBytes(p.bytesTotal),
    rate: e.rate === undefined ? "-" : `${formatBytes(Math.round(e.rate))}/s`,
    left: formatEta(e.etaSeconds),
    note: note ? ` | ${note}` : "",
  });
  return {
    onProgress: show(label),
    onHashProgress: show("sha256"),
    note(text) {
      note = text;
      if (phase !== undefined) bar.update({ note: ` | ${text}` });
    },
    stop() {
      if (phase !== undefined) bar.stop();
      phase = undefined;
    },
  };
}
