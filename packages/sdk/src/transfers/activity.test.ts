// activitySignal on a fake clock (timers and performance.now move only when
// the test moves them), so no outcome depends on how busy the machine is.
import { Code } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { activitySignal } from "./activity.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("activitySignal", () => {
  it("aborts after the idle time with a clear DeadlineExceeded, not before", () => {
    const a = activitySignal(30);
    vi.advanceTimersByTime(29);
    expect(a.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(a.signal.aborted).toBe(true);
    expect(a.idle).toBe(true);
    expect(a.signal.reason).toMatchObject({ code: Code.DeadlineExceeded, rawMessage: expect.stringContaining("no bytes moved for 30 ms") });
    a.done();
  });

  it("stays alive while touched, and counts the idle time from the last touch", () => {
    const a = activitySignal(60);
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(50);
      a.touch();
    }
    expect(a.signal.aborted).toBe(false);
    vi.advanceTimersByTime(59);
    expect(a.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(a.signal.aborted).toBe(true);
    a.done();
  });

  it("follows the caller's signal, and never fires without a timeout", () => {
    const outer = new AbortController();
    const a = activitySignal(undefined, outer.signal);
    vi.advanceTimersByTime(3_600_000);
    expect(a.signal.aborted).toBe(false);
    outer.abort(new Error("stop"));
    expect(a.signal.aborted).toBe(true);
    expect(a.idle).toBe(false);
    a.done();
  });
});
