// How an attempt ends, from what the handler did and what happened meanwhile.
import { Code, ConnectError } from "@connectrpc/connect";
import { TaskState } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { type AbortKind, failureMessage, isLeaseLost, TaskAbortError, TaskError } from "./errors.js";
import { createLeaseClock } from "./lease-clock.js";
import { decideEnding, type Outcome } from "./run-task.js";
import { paramsWithKey, progressOf } from "./task-context.js";
import { defaultWorkerId } from "./run-worker.js";

function at(why?: AbortKind, more: { cancelRequested?: boolean; leaseLost?: boolean } = {}) {
  const c = new AbortController();
  if (why) c.abort(new TaskAbortError(why));
  return { why, cancelRequested: more.cancelRequested ?? false, leaseLost: more.leaseLost ?? false, signal: c.signal };
}
const returned = (v = {}): Outcome => ({ returned: v });
const threw = (error: unknown): Outcome => ({ error });

describe("decideEnding", () => {
  it("succeeds with what the handler returned", () => {
    expect(decideEnding(returned({ result: { acc: 1 } }), at())).toEqual({ kind: "complete", state: TaskState.SUCCEEDED, result: { result: { acc: 1 } } });
  });

  it("acknowledges a stop when the handler returned or gave up with the abort", () => {
    const s = at("stop");
    expect(decideEnding(returned(), s)).toEqual({ kind: "complete", state: TaskState.STOPPED });
    expect(decideEnding(threw(s.signal.reason), s)).toEqual({ kind: "complete", state: TaskState.STOPPED });
    expect(decideEnding(threw(new ConnectError("aborted", Code.Canceled)), s)).toEqual({ kind: "complete", state: TaskState.STOPPED });
  });

  it("fails with the handler's own error, retryable unless it says not", () => {
    expect(decideEnding(threw(new Error("out of memory")), at())).toEqual({ kind: "fail", message: "out of memory", retryable: true });
    expect(decideEnding(threw(new TaskError("bad data", { retryable: false })), at())).toEqual({ kind: "fail", message: "bad data", retryable: false });
    // A real failure during a stop is a failure (the server finishes the stop).
    expect(decideEnding(threw(new Error("disk full")), at("stop"))).toMatchObject({ kind: "fail", message: "disk full" });
  });

  it("ends a cancelled task for good, and sends nothing after a lost lease", () => {
    expect(decideEnding(returned(), at("cancel", { cancelRequested: true }))).toMatchObject({ kind: "fail", retryable: false });
    expect(decideEnding(returned(), at("lease-lost", { leaseLost: true }))).toEqual({ kind: "none" });
    expect(decideEnding(threw(new Error("x")), at("stop", { leaseLost: true }))).toEqual({ kind: "none" });
  });

  it("releases the task (its attempt not counted) when the worker shuts down", () => {
    const s = at("shutdown");
    expect(decideEnding(returned(), s)).toMatchObject({ kind: "release" });
    expect(decideEnding(threw(s.signal.reason), s)).toMatchObject({ kind: "release" });
  });
});

describe("worker details", () => {
  it("gives the handler's parameter block the worker's key", () => {
    const json = JSON.stringify({ _alg_model_params: { endPoint: "http://r", tenant: "w", sourceTask: "workspaces/w/tasks/t" } });
    const withKey = JSON.parse(paramsWithKey(json, "kid.secret.part"));
    expect(withKey._alg_model_params).toMatchObject({ accessId: "kid", accessKey: "secret.part", sourceTask: "workspaces/w/tasks/t" });
    expect(paramsWithKey(json, undefined)).toBe(json);
    expect(paramsWithKey("not json", "a.b")).toBe("not json");
  });

  it("checks progress as the server does", () => {
    expect(progressOf({ epoch: 2, totalEpochs: 4, step: 10, fraction: 0.5, message: "m".repeat(1200) })).toMatchObject({ epoch: 2, step: 10n, fraction: 0.5 });
    expect(progressOf({ message: "m".repeat(1200) }).message).toHaveLength(1000);
    expect(() => progressOf({ fraction: 1.5 })).toThrow(/fraction/);
    expect(() => progressOf({ epoch: -1 })).toThrow(/epoch/);
  });

  it("makes a worker id from a host name", () => {
    expect(defaultWorkerId("GPU_Box.1.example.com")).toBe("gpu-box-1-example-com");
    expect(defaultWorkerId("42")).toBe("worker");
    expect(defaultWorkerId("x".repeat(80))).toHaveLength(63);
  });

  it("gives up a lease only after it ran out unanswered, by the worker's own clock", () => {
    const now = Date.now();
    const clock = createLeaseClock({ seconds: BigInt(Math.floor((now + 30_000) / 1000)), nanos: 0 } as never, 5_000, now);
    expect(() => clock.check()).not.toThrow();
    // Sent long ago and answered with a lease that ended: lost (after one interval of grace).
    clock.renew(undefined, now - 60_000);
    let err: unknown;
    try {
      clock.check();
    } catch (e) {
      err = e;
    }
    expect(isLeaseLost(err)).toBe(true);
    expect(failureMessage(err)).toMatch(/presumed taken back/);
  });
});
