import { describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { createProgressBar } from "./progress.js";

describe("createProgressBar", () => {
  it("draws bytes, rate and ETA on a terminal", () => {
    const b = bufferIo({}, { tty: true });
    let t = 1_000;
    const bar = createProgressBar(b.io, "push", () => t);
    bar.onHashProgress({ bytesDone: 0, bytesTotal: 8 << 20 });
    t += 500;
    bar.onHashProgress({ bytesDone: 8 << 20, bytesTotal: 8 << 20 });
    bar.onProgress({ bytesDone: 0, bytesTotal: 4 << 20 });
    t += 1000;
    bar.note("connection lost, resuming (retry 1)");
    bar.onProgress({ bytesDone: 2 << 20, bytesTotal: 4 << 20 });
    bar.stop();
    expect(b.stderr).toContain("sha256");
    expect(b.stderr).toMatch(/8\.0 MiB \/ 8\.0 MiB \| 16\.0 MiB\/s/);
    expect(b.stderr).toContain("push");
    expect(b.stderr).toContain("resuming (retry 1)");
    expect(b.stderr).toMatch(/2\.0 MiB \/ 4\.0 MiB/);
    expect(b.stderr).toMatch(/2\.0 MiB\/s/);
    expect(b.stderr).toContain("ETA");
    expect(b.stdout).toBe("");
  });

  it("stays quiet when stderr is not a terminal", () => {
    const b = bufferIo({}, { tty: false });
    const bar = createProgressBar(b.io, "pull");
    bar.onProgress({ bytesDone: 5, bytesTotal: 10 });
    bar.stop();
    expect(b.stderr).toBe("");
  });
});
