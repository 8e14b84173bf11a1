import { describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { createProgressBar, progressDisabled } from "./progress.js";

const MiB = 1 << 20;
/** The ETA shown in each frame the bar drew. */
const etas = (stderr: string) => [...stderr.matchAll(/ETA ([^\s\x1b]+)/g)].map((m) => m[1]);

describe("createProgressBar", () => {
  it("draws bytes, rate and ETA on a terminal", () => {
    const b = bufferIo({}, { tty: true });
    let t = 1_000;
    const bar = createProgressBar(b.io, "push", { now: () => t });
    bar.onHashProgress({ bytesDone: 0, bytesTotal: 8 * MiB });
    t += 500;
    bar.onHashProgress({ bytesDone: 8 * MiB, bytesTotal: 8 * MiB });
    bar.onProgress({ bytesDone: 0, bytesTotal: 4 * MiB });
    t += 1000;
    bar.note("connection lost, resuming (retry 1)");
    bar.onProgress({ bytesDone: 2 * MiB, bytesTotal: 4 * MiB });
    bar.stop();
    expect(b.stderr).toContain("sha256");
    expect(b.stderr).toContain("push");
    expect(b.stderr).toContain("resuming (retry 1)");
    expect(b.stderr).toMatch(/2\.0 MiB \/ 4\.0 MiB \| 2\.0 MiB\/s \| ETA 1s/);
    expect(b.stdout).toBe("");
  });

  it("keeps the send's bar while small files are hashed beside a large one being sent", () => {
    const b = bufferIo({}, { tty: true });
    let t = 0;
    const bar = createProgressBar(b.io, "push", { now: () => t });
    bar.onProgress({ bytesDone: 0, bytesTotal: 100 * MiB });
    t += 1000;
    bar.onHashProgress({ bytesDone: 1 * MiB, bytesTotal: 2 * MiB });
    bar.onProgress({ bytesDone: 10 * MiB, bytesTotal: 100 * MiB });
    bar.stop();
    expect(b.stderr).not.toContain("sha256");
    expect(b.stderr).toMatch(/10\.0 MiB \/ 100\.0 MiB \| 10\.0 MiB\/s \| ETA 9s/);
  });

  it("shows no ETA before there is enough to estimate, nor a rate or ETA that counts bytes already there", () => {
    const b = bufferIo({}, { tty: true });
    let t = 0;
    const bar = createProgressBar(b.io, "pull", { now: () => t });
    // A resumed download: 90 MiB were there, 10 MiB to go.
    bar.onProgress({ bytesDone: 90 * MiB, bytesTotal: 100 * MiB });
    t += 1;
    bar.onProgress({ bytesDone: 90 * MiB + 1, bytesTotal: 100 * MiB });
    expect(b.stderr).not.toMatch(/ETA \d/);
    t += 999;
    bar.onProgress({ bytesDone: 91 * MiB, bytesTotal: 100 * MiB });
    bar.stop();
    expect(b.stderr).toMatch(/91\.0 MiB \/ 100\.0 MiB \| 1\.0 MiB\/s \| ETA 9s/);
    for (const e of etas(b.stderr)) expect(e).toMatch(/^(-|\d+s|\d+m\d\ds|\d+h\d\dm)$/);
  });

  it("hides the ETA when the transfer crawls instead of showing an absurd one", () => {
    const b = bufferIo({}, { tty: true });
    let t = 0;
    const bar = createProgressBar(b.io, "pull", { now: () => t });
    bar.onProgress({ bytesDone: 0, bytesTotal: 2 ** 50 });
    t += 3_600_000;
    bar.onProgress({ bytesDone: 1 * MiB, bytesTotal: 2 ** 50 });
    bar.stop();
    expect(etas(b.stderr).every((e) => e === "-")).toBe(true);
    expect(b.stderr).not.toMatch(/NaN|Infinity|INF|NULL|∞|-\d/);
  });

  it("stays quiet when stderr is not a terminal", () => {
    const b = bufferIo({}, { tty: false });
    const bar = createProgressBar(b.io, "pull");
    bar.onProgress({ bytesDone: 5, bytesTotal: 10 });
    bar.stop();
    expect(b.stderr).toBe("");
  });

  it("stays quiet on a terminal with --quiet or MODELREG_NO_PROGRESS", () => {
    for (const [env, quiet] of [[{}, true], [{ MODELREG_NO_PROGRESS: "1" }, false], [{ MODELREG_NO_PROGRESS: "yes" }, false]] as const) {
      const b = bufferIo({ ...env }, { tty: true });
      const bar = createProgressBar(b.io, "pull", { quiet });
      bar.onProgress({ bytesDone: 5, bytesTotal: 10 });
      bar.stop();
      expect(b.stderr).toBe("");
    }
  });
});

describe("progressDisabled", () => {
  it("is any non-empty value of MODELREG_NO_PROGRESS other than 0", () => {
    expect(progressDisabled({})).toBe(false);
    expect(progressDisabled({ MODELREG_NO_PROGRESS: "" })).toBe(false);
    expect(progressDisabled({ MODELREG_NO_PROGRESS: "0" })).toBe(false);
    expect(progressDisabled({ MODELREG_NO_PROGRESS: "1" })).toBe(true);
    expect(progressDisabled({ MODELREG_NO_PROGRESS: "true" })).toBe(true);
  });
});
