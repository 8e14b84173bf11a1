import { describe, expect, it } from "vitest";
import { outcomeOf } from "./program.js";

const exit = (code: number | null, signal: NodeJS.Signals | null = null, lastError = "") => ({ code, signal, lastError });

describe("how the program's end ends the task", () => {
  it("succeeds on exit 0, whether or not a stop was asked (the SDK then acknowledges the stop)", () => {
    expect(outcomeOf(exit(0), false, "python3")).toEqual({ kind: "succeeded" });
    expect(outcomeOf(exit(0), true, "python3")).toEqual({ kind: "succeeded" });
  });

  it("takes an end by the signals it sends, after a stop or cancel, as the abort asked for", () => {
    for (const e of [exit(null, "SIGTERM"), exit(null, "SIGKILL"), exit(143), exit(137)]) expect(outcomeOf(e, true, "python3")).toEqual({ kind: "aborted" });
  });

  it("fails on any other end: not retried for exit 2, retried otherwise", () => {
    expect(outcomeOf(exit(2, null, "bad params"), false, "python3")).toEqual({ kind: "failed", message: "python3 exited with code 2: bad params", retryable: false });
    expect(outcomeOf(exit(1), false, "python3")).toEqual({ kind: "failed", message: "python3 exited with code 1", retryable: true });
    expect(outcomeOf(exit(2), true, "python3")).toMatchObject({ kind: "failed", retryable: false });
    expect(outcomeOf(exit(null, "SIGKILL"), false, "python3")).toEqual({ kind: "failed", message: "python3 was killed by SIGKILL", retryable: true });
    expect(outcomeOf(exit(143), false, "sh")).toMatchObject({ kind: "failed", retryable: true });
  });
});
