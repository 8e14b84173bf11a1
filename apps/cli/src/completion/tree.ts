// The program's command tree as completion needs it, read from commander
// itself (what help shows), so completion stays true as commands are added:
// each command's path, its subcommands, its options, which options take a
// value and the words that value may be, and its arguments' choices.
import type { Command, Option } from "commander";
import { completionValues } from "./values.js";

export interface OptionSpec {
  /** `-o` and `--output`, as the option declares them. */
  names: string[];
  /** Whether the next word is its value (`<value>`; an optional `[value]` is never taken from the next word here). */
  takesValue: boolean;
  /** The words its value may be; empty when free (a name, a path). */
  values: readonly string[];
}

export interface CommandSpec {
  /** The names from the program down, e.g. ["tasks", "create"]; [] for the program. */
  path: string[];
  /** Subcommands, each by its name and its aliases. */
  subcommands: { name: string; aliases: string[] }[];
  /** The command's own options (the program's are the global ones). */
  options: OptionSpec[];
  /** The choices of each positional argument, in order (empty when free). */
  argumentValues: (readonly string[])[];
}

/** Every visible command of `program`, the program first. */
export function commandTree(program: Command): CommandSpec[] {
  const out: CommandSpec[] = [];
  const walk = (cmd: Command, path: string[]) => {
    const help = cmd.createHelp();
    // (A group's `help [command]` is listed though not in .commands: a leaf here.)
    const subs = help.visibleCommands(cmd);
    out.push({
      path,
      subcommands: subs.map((c) => ({ name: c.name(), aliases: c.aliases() })),
      options: help.visibleOptions(cmd).map(optionSpec),
      argumentValues: cmd.registeredArguments.map((a) => a.argChoices ?? []),
    });
    for (const c of subs) if (cmd.commands.includes(c)) walk(c, [...path, c.name()]);
  };
  walk(program, []);
  return out;
}

function optionSpec(o: Option): OptionSpec {
  return { names: [o.short, o.long].filter((n): n is string => !!n), takesValue: o.required, values: completionValues(o) };
}
