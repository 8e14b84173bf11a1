// The progress bar of push and pull: bytes, rate and ETA on stderr, only
// when a person is looking (stderr is a terminal); otherwise nothing, so
// scripts and logs stay clean. Phases (hashing the local files, then
// sending) each get a fresh bar under their own label.
import type { TransferProgress } from "@modelreg/sdk";
import { SingleBar } from "cli-progress";
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

/** A bar labelled `label` (e.g. "push"), or a no-op when stderr is not a terminal. */
export function createProgressBar(io: Io, label: string, now: () => number = Date.now): ProgressBar {
  if (io.stderr.isTTY !== true) return quiet;
  const bar = new SingleBar({
    stream: io.stderr as unknown as NodeJS.WritableStream,
    format: "{phase} {bar} {percentage}% | {done} / {size} | {rate} | ETA {eta_formatted}{note}",
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    fps: 10,
  });
  let phase: string | undefined;
  let t0 = 0;
  let note = "";
  const show = (name: string) => (p: TransferProgress) => {
    // Nothing to move in this phase (content the server holds already): no bar.
    if (p.bytesTotal === 0) return;
    const total = p.bytesTotal;
    if (phase !== name) {
      if (phase !== undefined) bar.stop();
      phase = name;
      t0 = now();
      note = "";
      bar.start(total, p.bytesDone, payload(name, p, 0));
      return;
    }
    if (total !== bar.getTotal()) bar.setTotal(total);
    bar.update(p.bytesDone, payload(name, p, (now() - t0) / 1000));
  };
  const payload = (name: string, p: TransferProgress, seconds: number) => ({
    phase: name,
    done: formatBytes(p.bytesDone),
    size: formatBytes(p.bytesTotal),
    rate: seconds > 0 ? `${formatBytes(Math.round(p.bytesDone / seconds))}/s` : "-",
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
