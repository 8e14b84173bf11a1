import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { activitySignal } from "./activity.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("activitySignal", () => {
  it("aborts after the idle time with a clear DeadlineExceeded", async () => {
    const a = activitySignal(30);
    await wait(80);
    expect(a.signal.aborted).toBe(true);
    expect(a.idle).toBe(true);
    expect(a.signal.reason).toMatchObject({ code: Code.DeadlineExceeded, rawMessage: expect.stringContaining("no bytes moved for 30 ms") });
    a.done();
  });

  it("stays alive while touched", async () => {
    const a = activitySignal(60);
    for (let i = 0; i < 5; i++) {
      await wait(20);
      a.touch();
    }
    expect(a.signal.aborted).toBe(false);
    a.done();
  });

  it("follows the caller's signal, and never fires without a timeout", async () => {
    const outer = new AbortController();
    const a = activitySignal(undefined, outer.signal);
    await wait(10);
    expect(a.signal.aborted).toBe(false);
    outer.abort(new Error("stop"));
    expect(a.signal.aborted).toBe(true);
    expect(a.idle).toBe(false);
    a.done();
  });
});
