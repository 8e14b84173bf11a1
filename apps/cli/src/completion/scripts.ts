// `modelreg completion bash|zsh`: a completion script written from the
// command tree (tree.ts). The tree becomes shell functions made of `case`
// statements that bash and zsh both read; one walk over the words typed
// (_modelreg_candidates, also shared) finds the command, skips options and
// their values, and prints what may come next; each shell's own driver
// hands that to its completion system. Nothing runs modelreg (or node) on
// Tab: completion is instant, and as true as the CLI that printed it.
import type { Command } from "commander";
import { type CommandSpec, commandTree } from "./tree.js";

export const shells = ["bash", "zsh"] as const;
export type Shell = (typeof shells)[number];

/** The completion script for `shell` of the program `program` (named by program.name()). */
export function completionScript(program: Command, shell: Shell): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const shared = sharedFunctions(fn, commandTree(program));
  return shell === "bash" ? bashScript(name, fn, shared) : zshScript(name, fn, shared);
}

/** A word quoted for a shell: single quotes, with ' written as '\''. */
function q(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `printf '%s\n' a b c`, or `:` when there is nothing to print. */
function lines(words: readonly string[]): string {
  return words.length > 0 ? `printf '%s\\n' ${words.map(q).join(" ")}` : ":";
}

/** The data functions and the walk, in the subset of shell both bash and zsh read alike. */
function sharedFunctions(fn: string, tree: CommandSpec[]): string {
  const key = (c: CommandSpec) => c.path.join(" ");
  const cases = (arms: string[]) => (arms.length > 0 ? `  case "$1|$2" in\n${arms.join("\n")}\n  esac\n` : "");
  const [root, ...commands] = tree;
  const subcommandCases = tree
    .filter((c) => c.subcommands.length > 0)
    .map((c) => `    ${q(key(c))}) ${lines(c.subcommands.map((s) => s.name))} ;;`);
  const subcommandNameCases = tree.flatMap((c) =>
    c.subcommands.map((s) => `    ${[s.name, ...s.aliases].map((n) => q(`${key(c)}|${n}`)).join("|")}) echo ${q(s.name)}; return 0 ;;`),
  );
  // Help and version are the program's own; every command has its own help.
  const ownNames = new Set(["-h", "--help", "-V", "--version"]);
  const globalNames = root!.options.flatMap((o) => o.names).filter((n) => !ownNames.has(n));
  const optionCases = [
    `    '') ${lines(root!.options.flatMap((o) => o.names).filter((n) => ownNames.has(n)))} ;;`,
    ...commands.filter((c) => c.options.length > 0).map((c) => `    ${q(key(c))}) ${lines(c.options.flatMap((o) => o.names))} ;;`),
  ];
  // An option's value: the command's own first, then the global ones (any command).
  const valueCases = [
    ...commands.flatMap((c) => c.options.filter((o) => o.takesValue).map((o) => `    ${o.names.map((n) => q(`${key(c)}|${n}`)).join("|")}) ${lines(o.values)}; return 0 ;;`)),
    ...root!.options.filter((o) => o.takesValue).map((o) => `    ${o.names.map((n) => `*${q(`|${n}`)}`).join("|")}) ${lines(o.values)}; return 0 ;;`),
  ];
  const argumentCases = tree.flatMap((c) => c.argumentValues.flatMap((values, i) => (values.length > 0 ? [`    ${q(`${key(c)}|${i}`)}) ${lines(values)} ;;`] : [])));
  return `# The subcommands of a command (its names from the program down, space-separated).
${fn}_subcommands() {
  case "$1" in
${subcommandCases.join("\n")}
  esac
}

# When $2 is a subcommand (or an alias of one) of the command $1: prints its name and returns 0.
${fn}_subcommand() {
${cases(subcommandNameCases)}  return 1
}

# The options of a command; the global ones apply to every command.
${fn}_options() {
  case "$1" in
${optionCases.join("\n")}
  esac
}
${fn}_global_options() {
  ${lines(globalNames)}
}

# For option $2 of command $1: prints the words its value may be and returns 0
# when it takes a value; returns 1 for a flag (or an option it does not know).
${fn}_option_values() {
${cases(valueCases)}  return 1
}

# The choices of positional argument number $2 (from 0) of command $1.
${fn}_argument_values() {
${cases(argumentCases)}  :
}

# ${fn}_candidates CWORD WORD... : what may be typed as word number CWORD
# (from 0, the program being word 0), one per line; the single line
# __files__ when it is a path (or anything else). A current word --opt=val
# gets the values of --opt, without the "--opt=".
${fn}_candidates() {
  local cword="$1" cmdpath="" k=1 w="" sub="" pending="" npos=0 cur=""
  shift 2
  while [ "$k" -lt "$cword" ]; do
    w="$1"
    shift
    k=$((k + 1))
    if [ -n "$pending" ]; then
      pending=""
      continue
    fi
    case "$w" in
      --)
        echo __files__
        return 0
        ;;
      --*=*) ;;
      -?*)
        if ${fn}_option_values "$cmdpath" "$w" >/dev/null; then pending="$w"; fi
        ;;
      *)
        if [ "$npos" -eq 0 ] && sub="$(${fn}_subcommand "$cmdpath" "$w")"; then
          cmdpath="\${cmdpath:+$cmdpath }$sub"
        else
          npos=$((npos + 1))
        fi
        ;;
    esac
  done
  if [ "$#" -gt 0 ]; then cur="$1"; fi
  if [ -n "$pending" ]; then
    if [ -n "$(${fn}_option_values "$cmdpath" "$pending")" ]; then ${fn}_option_values "$cmdpath" "$pending"; else echo __files__; fi
    return 0
  fi
  case "$cur" in
    --*=*)
      ${fn}_option_values "$cmdpath" "\${cur%%=*}"
      return 0
      ;;
    -*)
      ${fn}_options "$cmdpath"
      ${fn}_global_options
      return 0
      ;;
  esac
  if [ "$npos" -eq 0 ] && [ -n "$(${fn}_subcommands "$cmdpath")" ]; then
    ${fn}_subcommands "$cmdpath"
    return 0
  fi
  if [ -n "$(${fn}_argument_values "$cmdpath" "$npos")" ]; then
    ${fn}_argument_values "$cmdpath" "$npos"
    return 0
  fi
  echo __files__
}
`;
}

function bashScript(name: string, fn: string, shared: string): string {
  return `# bash completion for ${name}: written by \`${name} completion bash\`.
# Load it in this shell:   source <(${name} completion bash)
# or for every new shell:  ${name} completion bash > ~/.local/share/bash-completion/completions/${name}

${shared}
${fn}() {
  local line words cur
  # The words as typed, split at blanks only (bash's own COMP_WORDS also splits at = and :).
  line="\${COMP_LINE:0:COMP_POINT}"
  read -r -a words <<< "$line"
  if [[ "$line" =~ [[:space:]]$ || \${#words[@]} -eq 0 ]]; then words+=(""); fi
  cur="\${words[\${#words[@]}-1]}"
  local candidates
  candidates="$(${fn}_candidates "$((\${#words[@]} - 1))" "\${words[@]}")"
  COMPREPLY=()
  # A path: bash's own file name completion (complete -o default).
  [[ "$candidates" == __files__ ]] && return 0
  # After --opt= bash replaces only what follows the =.
  [[ "$cur" == --*=* ]] && cur="\${cur#*=}"
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o default -F ${fn} ${name}
`;
}

function zshScript(name: string, fn: string, shared: string): string {
  return `#compdef ${name}
# zsh completion for ${name}: written by \`${name} completion zsh\`.
# Load it in this shell (after compinit):  source <(${name} completion zsh)
# or for every new shell:  ${name} completion zsh > "\${fpath[1]}/_${name}"  (then restart zsh)

${shared}
${fn}() {
  local -a candidates
  candidates=("\${(@f)$(${fn}_candidates "$((CURRENT - 1))" "\${(@)words[1,CURRENT]}")}")
  if [[ "\${candidates[1]}" == __files__ ]]; then
    _files
    return
  fi
  [[ "\${words[CURRENT]}" == --*=* ]] && compset -P '*='
  compadd -- "\${candidates[@]}"
}

# Autoloaded from fpath, this file is the body of ${fn}: run it; sourced, register it.
if [[ "\${funcstack[1]}" == ${fn} ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}
