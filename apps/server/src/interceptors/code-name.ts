// gRPC code names as Connect writes them on the wire: snake case.
import { Code, ConnectError } from "@connectrpc/connect";

export function codeName(code: Code): string {
  return (Code[code] ?? "Unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** The code name of whatever a call threw. */
export function codeNameOf(err: unknown): string {
  return err instanceof ConnectError ? codeName(err.code) : "unknown";
}
