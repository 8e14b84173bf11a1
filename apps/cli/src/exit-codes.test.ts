import { Code, ConnectError } from "@modelreg/sdk";
import { describe, expect, it } from "vitest";
import { exitCodeFor, exitCodeHelp, rpcExitCode, UsageError } from "./exit-codes.js";

describe("exit codes", () => {
  it("maps an RPC error to 10 + its code", () => {
    expect(rpcExitCode(Code.InvalidArgument)).toBe(13);
    expect(rpcExitCode(Code.NotFound)).toBe(15);
    expect(rpcExitCode(Code.AlreadyExists)).toBe(16);
    expect(rpcExitCode(Code.FailedPrecondition)).toBe(19);
    expect(rpcExitCode(Code.Aborted)).toBe(20);
    expect(rpcExitCode(Code.Unavailable)).toBe(24);
    expect(exitCodeFor(new ConnectError("gone", Code.NotFound))).toBe(15);
    expect(exitCodeFor(new ConnectError("late", Code.DeadlineExceeded))).toBe(14);
  });

  it("uses 2 for usage errors and 1 for anything else", () => {
    expect(exitCodeFor(new UsageError("bad"))).toBe(2);
    expect(exitCodeFor(new Error("boom"))).toBe(1);
    expect(exitCodeFor("not even an error")).toBe(1);
  });

  it("documents the table", () => {
    const help = exitCodeHelp();
    expect(help).toMatch(/^Exit codes:/);
    for (const line of ["0     success", "2     usage error", "15    not found", "20    aborted", "24    unavailable"]) expect(help).toContain(line);
  });
});
