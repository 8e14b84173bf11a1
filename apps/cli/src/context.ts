// What a command's action works with: the resolved global options, an SDK
// client, and the output in the chosen format.
import { createRegistryClient, type RegistryClient, type RegistryClientOptions } from "@modelreg/sdk";
import type { GlobalOptions } from "./global-options.js";
import type { Io } from "./io.js";
import { createOutput, type Output } from "./output.js";

/** Things run() can be given instead of building them (tests, embedding). */
export interface CliDeps {
  /**
   * Talk through this transport instead of one built from --server and
   * --protocol, e.g. createRouterTransport() over the real server's routes.
   * (--timeout then applies only if the transport sets a default timeout.)
   */
  transport?: RegistryClientOptions["transport"];
}

export interface CommandContext {
  io: Io;
  globals: GlobalOptions;
  client: RegistryClient;
  out: Output;
}

export function createContext(globals: GlobalOptions, io: Io, deps: CliDeps): CommandContext {
  const client = createRegistryClient({
    baseUrl: globals.server,
    protocol: globals.protocol,
    workspace: globals.workspace,
    ...(globals.timeoutMs > 0 ? { timeoutMs: globals.timeoutMs } : {}),
    ...(deps.transport ? { transport: deps.transport } : {}),
  });
  return { io, globals, client, out: createOutput(globals.output, io) };
}
