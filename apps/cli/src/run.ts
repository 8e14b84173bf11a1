// run(): the whole CLI as a function of its arguments and streams, returning
// the exit code. main.ts calls it with the process; tests with buffers.
import { type Command, CommanderError } from "commander";
import { createContext, type CliDeps, type CommandContext } from "./context.js";
import { reportError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";
import { outputFormats, type OutputFormat } from "./output.js";
import { DEFAULT_SERVER, DEFAULT_WORKSPACE, resolveGlobals, type GlobalOptions, type ResolveOptions } from "./global-options.js";
import type { Io } from "./io.js";
import { createProgram } from "./program.js";

export type { CliDeps } from "./context.js";

/** Runs `modelreg <argv...>` (argv without node and the script). */
export async function run(argv: readonly string[], io: Io, deps: CliDeps = {}): Promise<number> {
  let globals: GlobalOptions | undefined;
  const context = (cmd: Command, options?: ResolveOptions): CommandContext => {
    globals = resolveGlobals(cmd, io, options);
    return createContext(globals, io, deps);
  };
  const program = createProgram(io, context);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return ExitCode.Ok;
  } catch (err) {
    // Commander has already printed its message (and help) to stderr.
    if (err instanceof CommanderError) return commanderExitCode(err);
    if (deps.signal?.aborted) {
      io.stderr.write("interrupted\n");
      return ExitCode.Interrupted;
    }
    return reportError(err, io, {
      format: globals?.output ?? formatGiven(program.opts<{ output?: string }>().output),
      server: globals?.server ?? DEFAULT_SERVER,
      workspace: globals?.workspace ?? DEFAULT_WORKSPACE,
      ...(globals ? { timeoutMs: globals.timeoutMs, credential: globals.credential } : {}),
    });
  }
}

/** The format -o named, before the globals resolved (a path given to pull is not one: table). */
function formatGiven(value: string | undefined): OutputFormat {
  return outputFormats.find((f) => f === value) ?? "table";
}

/**
 * Help asked for (--help, `help <command>`) and --version exit 0; help shown
 * because a command was missing, and every other commander complaint, are
 * usage errors.
 */
export function commanderExitCode(err: CommanderError): number {
  if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return ExitCode.Ok;
  if (err.code === "commander.help" && err.exitCode === 0) return ExitCode.Ok;
  return ExitCode.Usage;
}
