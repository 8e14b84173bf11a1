// The commander program: global options, the command tree, help text, and
// output routed to the given streams instead of the process.
import { Command } from "commander";
import pkg from "../package.json" with { type: "json" };
import { registerModelCommands } from "./commands/models.js";
import { registerVersionCommands } from "./commands/versions.js";
import type { CommandContext } from "./context.js";
import { exitCodeHelp } from "./exit-codes.js";
import { addGlobalOptions } from "./global-options.js";
import type { Io } from "./io.js";

const examples = `Examples:
  modelreg models create fraud-detector --description "card fraud" --label team=risk
  modelreg versions create fraud-detector --label dataset=2026-10     # server assigns 1.0.0, 1.0.1, ...
  modelreg versions list fraud-detector --limit 5
  modelreg versions get fraud-detector:1.0.0 -o json | jq .labels
  modelreg models update fraud-detector --description "v2" --etag <etag>
  modelreg models delete fraud-detector --force`;

/**
 * Builds the program. Commands call `context(cmd)` to get their client and
 * output; commander errors throw (exitOverride) instead of exiting.
 */
export function createProgram(io: Io, context: (cmd: Command) => CommandContext): Command {
  const program = new Command("modelreg")
    .description("Operate a modelreg server: models and their versions.")
    .version(pkg.version, "-V, --version", "print the CLI version")
    .helpOption("-h, --help", "show help for a command")
    .helpCommand("help [command]", "show help for a command")
    // Inherited by every subcommand created below.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      getOutHelpWidth: () => io.stdout.columns ?? 100,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError(true);

  addGlobalOptions(program);
  program.addHelpText("after", `\n${examples}\n\nGlobal options go before or after the command.\n\n${exitCodeHelp()}\n`);

  registerModelCommands(program, context);
  registerVersionCommands(program, context);
  return program;
}
