// `modelreg completion bash|zsh`: prints the completion script of this very
// program (see scripts.ts), to be sourced or saved where the shell looks.
import { Argument, type Command } from "commander";
import type { Io } from "../io.js";
import { completionScript, type Shell, shells } from "./scripts.js";

export function registerCompletionCommand(program: Command, io: Io): void {
  program
    .command("completion")
    .description("print a shell completion script (commands, options and their values) for bash or zsh")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(shells))
    .addHelpText(
      "after",
      `
bash:  source <(modelreg completion bash)                 # this shell
       modelreg completion bash > ~/.local/share/bash-completion/completions/modelreg
zsh:   source <(modelreg completion zsh)                  # this shell, after compinit
       modelreg completion zsh > "\${fpath[1]}/_modelreg"   # every new shell
The script is written from the commands of this modelreg: print it again after an upgrade.`,
    )
    .action((shell: Shell) => {
      io.stdout.write(completionScript(program, shell));
    });
}
