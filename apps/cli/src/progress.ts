// The progress bar of push and pull: bytes, rate and ETA on stderr, only
// when a person is looking (stderr is a terminal); otherwise nothing, so
// scripts and logs stay clean.
import type { TransferProgress } from "@modelreg/sdk";
import { SingleBar } from "cli-progress";
import type { Io } from "./io.js";
import { formatBytes } from "./render-files.js";

export interface ProgressBar {
  /** Pass as the SDK's onProgress. */
  onProgress(p: TransferProgress): void;
  /** Removes the bar (call in finally). */
  stop(): void;
}

/** A bar labelled `label` (e.g. "push"), or a no-op when stderr is not a terminal. */
export function createProgressBar(io: Io, label: string, now: () => number = Date.now): ProgressBar {
  if (io.stderr.isTTY !== true) return { onProgress: () => {}, stop: () => {} };
  const bar = new SingleBar({
    stream: io.stderr as unknown as NodeJS.WritableStream,
    format: `${label} {bar} {percentage}% | {done} / {size} | {rate} | ETA {eta_formatted}`,
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    fps: 10,
  });
  let started = false;
  let t0 = 0;
  return {
    onProgress(p) {
      const total = Math.max(p.bytesTotal, 1);
      const elapsed = (now() - t0) / 1000;
      const payload = {
        done: formatBytes(p.bytesDone),
        size: formatBytes(p.bytesTotal),
        rate: started && elapsed > 0 ? `${formatBytes(Math.round(p.bytesDone / elapsed))}/s` : "-",
      };
      if (!started) {
        started = true;
        t0 = now();
        bar.start(total, p.bytesDone, payload);
        return;
      }
      if (total !== bar.getTotal()) bar.setTotal(total);
      bar.update(p.bytesDone, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
