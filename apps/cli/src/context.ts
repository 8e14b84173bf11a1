// What a command's action works with: the resolved global options, an SDK
// client (presenting the resolved access key), and the output in the chosen
// format.
import { createRegistryClient, type RegistryClient, type RegistryClientOptions } from "@modelreg/sdk";
import type { Command } from "commander";
import type { GlobalOptions, ResolveOptions } from "./global-options.js";
import type { Io } from "./io.js";
import { createOutput, type Output } from "./output.js";
import { createProgressBar, type ProgressBar } from "./progress.js";

/** Things run() can be given instead of building them (tests, embedding). */
export interface CliDeps {
  /**
   * Talk through this transport instead of one built from --server and
   * --protocol, e.g. createRouterTransport() over the real server's routes.
   * (--timeout then applies only if the transport sets a default timeout.
   * The access key is still added to every call.)
   */
  transport?: RegistryClientOptions["transport"];
  /** The clock (`keys create --expires 30d` counts from it); default: the system clock. */
  now?: () => Date;
  /** Aborted on Ctrl-C: push and pull stop (a pull keeps its partial files, which the next pull continues). */
  signal?: AbortSignal;
  /**
   * Registers what to do on SIGTERM instead of dying at once (`modelreg
   * worker` hands its tasks back first); absent: SIGTERM is not caught.
   */
  onTerminate?: (listener: () => void) => void;
}

export interface CommandContext {
  io: Io;
  globals: GlobalOptions;
  client: RegistryClient;
  out: Output;
  /** The progress bar of a transfer labelled `label`; a no-op off a terminal, with --quiet or MODELREG_NO_PROGRESS. */
  progressBar(label: string): ProgressBar;
  /** Writes an informational line (a note, a warning) to stderr; nothing with --quiet. Errors are thrown, not noted. */
  note(text: string): void;
  now: () => Date;
  /** Aborted when the user interrupts (Ctrl-C); absent in tests that do not. */
  signal: AbortSignal | undefined;
  /** See CliDeps.onTerminate. */
  onTerminate: ((listener: () => void) => void) | undefined;
}

/** What commands call to get their context; `options` change how the globals resolve (login). */
export type ContextFactory = (cmd: Command, options?: ResolveOptions) => CommandContext;

export function createContext(globals: GlobalOptions, io: Io, deps: CliDeps): CommandContext {
  const client = createRegistryClient({
    baseUrl: globals.server,
    protocol: globals.protocol,
    workspace: globals.workspace,
    // Always a string: "" sends no key (the SDK would otherwise read the process's MODELREG_ACCESS_KEY, not io.env).
    accessKey: globals.credential.token ?? "",
    ...(globals.timeoutMs > 0 ? { timeoutMs: globals.timeoutMs } : {}),
    ...(deps.transport ? { transport: deps.transport } : {}),
  });
  const note = (text: string) => {
    if (!globals.quiet) io.stderr.write(`${text}\n`);
  };
  return { io, globals, client, out: createOutput(globals.output, io, { quiet: globals.quiet }),
    note,
    progressBar: (label) => createProgressBar(io, label, { quiet: globals.quiet }),
    now: deps.now ?? (() => new Date()), signal: deps.signal, onTerminate: deps.onTerminate };
}
