// Process exit codes. Scripts branch on these, so they are part of the CLI's
// contract: a failed RPC exits with 10 + its Connect/gRPC code.
import { Code, ConnectError } from "@modelreg/sdk";

export const ExitCode = {
  Ok: 0,
  /** Anything that is not a usage error or an RPC error. */
  Failure: 1,
  /** Bad command line: unknown command or option, missing or invalid argument. */
  Usage: 2,
  /** Base of RPC errors: the exit code is RpcBase + the Connect code (1-16). */
  RpcBase: 10,
  /** Interrupted by Ctrl-C (128 + SIGINT), after push or pull removed their partial files. */
  Interrupted: 130,
} as const;

/** A mistake on the command line found by the CLI itself (exit 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The exit code of a ConnectError: 10 + its code (NotFound=5 -> 15). */
export function rpcExitCode(code: Code): number {
  return ExitCode.RpcBase + code;
}

/** The exit code for any error an action threw. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return ExitCode.Usage;
  if (err instanceof ConnectError) return rpcExitCode(err.code);
  return ExitCode.Failure;
}

const documented: [Code, string][] = [
  [Code.InvalidArgument, "invalid argument (the server names each bad field)"],
  [Code.DeadlineExceeded, "deadline exceeded (see --timeout)"],
  [Code.NotFound, "not found"],
  [Code.AlreadyExists, "already exists"],
  [Code.PermissionDenied, "permission denied: the key's role is too small (see whoami)"],
  [Code.FailedPrecondition, "failed precondition (e.g. deleting a model that has versions)"],
  [Code.Aborted, "aborted: stale --etag; re-read and retry"],
  [Code.Internal, "internal server error"],
  [Code.Unavailable, "unavailable: server not reachable (safe to retry)"],
  [Code.Unauthenticated, "unauthenticated: no, bad, revoked or expired access key (see login)"],
];

/** The exit-code table printed at the end of --help. */
export function exitCodeHelp(): string {
  const rows: [string, string][] = [
    [String(ExitCode.Ok), "success"],
    [String(ExitCode.Failure), "unexpected error"],
    [String(ExitCode.Usage), "usage error (unknown command or option, bad argument)"],
    ...documented.map(([code, text]): [string, string] => [String(rpcExitCode(code)), text]),
    ["10+N", "any other RPC error with Connect/gRPC code N"],
    [String(ExitCode.Interrupted), "interrupted (Ctrl-C)"],
  ];
  return ["Exit codes:", ...rows.map(([c, t]) => `  ${c.padEnd(6)}${t}`)].join("\n");
}
