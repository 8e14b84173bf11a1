// The commander program: global options, the command tree, help text, and
// output routed to the given streams instead of the process.
import { Command } from "commander";
import pkg from "../package.json" with { type: "json" };
import { registerAliasCommands } from "./commands/aliases.js";
import { registerAuditCommands } from "./commands/audit.js";
import { registerAuthCommands } from "./commands/auth.js";
import { registerCompletionCommand } from "./completion/command.js";
import { registerExportCommands } from "./commands/exports.js";
import { registerKeyCommands } from "./commands/keys.js";
import { registerModelCommands } from "./commands/models.js";
import { registerTaskCommands } from "./commands/tasks.js";
import { registerWorkerCommands } from "./commands/workers.js";
import { registerTransferCommands } from "./commands/transfer.js";
import { registerVersionCommands } from "./commands/versions.js";
import { registerWorkerCommand } from "./commands/worker.js";
import { registerWorkspaceCommands } from "./commands/workspaces.js";
import type { ContextFactory } from "./context.js";
import { exitCodeHelp } from "./exit-codes.js";
import { addGlobalOptions } from "./global-options.js";
import type { Io } from "./io.js";

const examples = `Examples:
  modelreg whoami                    # after npm start here: the CLI uses the server's ./data/admin.key
  modelreg login --server https://registry.example.com     # asks for a key, saves profile "default"
  modelreg models create fraud-detector --description "card fraud" --label team=risk
  modelreg versions create fraud-detector --label dataset=2026-10     # server assigns 1.0.0, 1.0.1, ...
  modelreg versions list fraud-detector --limit 5
  modelreg versions list fraud-detector --filter 'metrics.f1 > 0.85 AND labels.dataset = "2026-10"' --order-by 'metrics.f1 desc'
  modelreg versions list - --filter 'framework = PYTORCH'              # every model of the workspace
  modelreg versions create fraud-detector --framework xgboost --metric f1=0.88 --data-version 2026-10
  modelreg versions update fraud-detector:1.0.0 --archive
  modelreg versions import-modelarts create-model.json --create-model
  modelreg aliases set fraud-detector production 1.2.0 --expect 1.1.0
  modelreg pull fraud-detector@production
  modelreg versions get fraud-detector:1.0.0 -o json | jq .labels
  modelreg push ./model.onnx fraud-detector            # new version (1.0.1, ...) holding model.onnx, READY
  modelreg push ./export/ fraud-detector:2.0.0         # every file under ./export/; creates 2.0.0 if missing
  modelreg push ./export/ fraud-detector:2.0.0 --overwrite   # replace the files of a READY version
  modelreg versions files fraud-detector:2.0.0         # path, size, sha256, md5, media type
  modelreg export fraud-detector:2.0.0 --format tar.gz --wait -O fraud.tar.gz   # one archive, checksums, modelreg.json
  modelreg exports list fraud-detector --state succeeded
  modelreg import fraud.tar.gz fraud-copy              # the archive as a READY version (elsewhere, too)
  modelreg tasks create --type train --model fraud-detector --set num_epochs=20 --set lr_decay_epochs=[10,15]
  modelreg tasks watch train-3f9a0c1e                  # progress bar, metrics, log tail; exit 0 if it succeeded
  modelreg worker --queue default -- python3 train.py  # runs train.py for each task; see modelreg worker --help
  modelreg pull fraud-detector:2.0.0                   # into ./fraud-detector-2.0.0 (-d <dir> to choose)
  modelreg models update fraud-detector --description "v2" --etag <etag>
  modelreg models delete fraud-detector --force
  modelreg workspaces create team-a --description "risk team"         # server-wide admin key
  modelreg keys create alice --role editor --expires 90d --workspace team-a  # prints the token once
  modelreg keys list --all
  modelreg keys rotate AKJ3Q4M7V2ZC6N8P
  modelreg audit list --filter 'user = "alice" AND code != "ok"' --limit 20
  modelreg versions list fraud-detector -o yaml          # the values of -o json, as YAML
  source <(modelreg completion bash)                     # Tab completes commands, options and their values (zsh too)`;

const accessKeys = `Access key (sent as Authorization: Bearer <key_id>.<secret>), the first that is set:
  1. --access-key <token>
  2. MODELREG_ACCESS_KEY
  3. the profile (--profile / MODELREG_PROFILE / "default") saved by modelreg login,
     if it is for the server in use (no --server / MODELREG_SERVER, or the same one);
     it also sets the default server and workspace
  4. for a server on this machine (127.0.0.1, localhost, ::1) only: $DATA_DIR/admin.key
     (DATA_DIR default ./data), written by the server on its first start
Profiles: ~/.config/modelreg/profiles.json ($XDG_CONFIG_HOME, or MODELREG_CONFIG_DIR, moves it).`;

/**
 * Builds the program. Commands call `context(cmd)` to get their client and
 * output; commander errors throw (exitOverride) instead of exiting.
 */
export function createProgram(io: Io, context: ContextFactory): Command {
  const program = new Command("modelreg")
    .description("Operate a modelreg server: models, their versions and files, tasks and their workers, workspaces, access keys and the audit log.")
    .version(pkg.version, "-V, --version", "print the CLI version")
    .helpOption("-h, --help", "show help for a command")
    // The groups' `help [command]` (`versions help create`); the program's own is addHelpCommand's.
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
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError(true);

  addGlobalOptions(program);
  program.addHelpText("after", `\n${examples}\n\nGlobal options go before or after the command.\n\n${accessKeys}\n\n${exitCodeHelp()}\n`);

  registerAuthCommands(program, context, io);
  registerModelCommands(program, context);
  registerVersionCommands(program, context);
  registerAliasCommands(program, context);
  registerTransferCommands(program, context);
  registerExportCommands(program, context);
  registerTaskCommands(program, context);
  registerWorkerCommands(program, context);
  registerWorkerCommand(program, context);
  registerWorkspaceCommands(program, context);
  registerKeyCommands(program, context);
  registerAuditCommands(program, context);
  registerCompletionCommand(program, io);
  addHelpCommand(program);
  return program;
}

/**
 * `help [command...]`: the help of the innermost command named, e.g.
 * `help versions create` (commander's own help command reads only the first
 * name). A name that is not a subcommand gets commander's own unknown-command
 * error (exit 2, with its "Did you mean ...?"): the group is parsed with that
 * name, which is safe because no group here has an action of its own. Added
 * after the other commands, which keep commander's `help [command]` for
 * their subcommands (`versions help create`).
 */
function addHelpCommand(program: Command): void {
  program
    .command("help [command...]")
    .description("show help for a command")
    .action(async (names: string[]) => {
      let target = program;
      for (const [i, name] of names.entries()) {
        const sub = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (sub) {
          target = sub;
          continue;
        }
        // Commander's own refusal of an unknown command, with its "Did you mean ...?".
        if (target.commands.length > 0) await target.parseAsync([name], { from: "user" });
        target.error(`error: unknown command '${name}': '${names.slice(0, i).join(" ")}' has no subcommands`, { code: "commander.unknownCommand" });
      }
      target.help();
    });
  program.helpCommand(false);
}
