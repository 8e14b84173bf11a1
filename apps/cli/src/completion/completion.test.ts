// The completion scripts in real shells: `modelreg completion bash` sourced
// into bash, whose completion function is run as bash runs it on Tab
// (COMP_LINE, COMP_POINT, COMP_WORDS, COMP_CWORD set, COMPREPLY read back);
// the zsh script sourced into zsh after compinit, registered with compdef,
// and its function run with the words zsh would give it. zsh is skipped,
// saying so, where it is not installed.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Option } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufferIo } from "../io.js";
import { createProgram } from "../program.js";
import { run } from "../run.js";
import { taskTypeWords } from "../task-flags.js";
import { completionScript } from "./scripts.js";
import { completeWith } from "./values.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-completion-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What `modelreg completion <shell>` prints, written to a file. */
async function script(shell: "bash" | "zsh"): Promise<string> {
  const b = bufferIo({});
  expect(await run(["completion", shell], b.io)).toBe(0);
  expect(b.stderr).toBe("");
  const path = join(dir, `modelreg.${shell}`);
  await writeFile(path, b.stdout);
  return path;
}

const has = (shell: string) => spawnSync(shell, ["-c", "exit 0"]).status === 0;

/** Runs `body` in a fresh shell; its stdout, failing on a non-zero exit. */
function sh(shell: "bash" | "zsh", body: string): string {
  const args = shell === "bash" ? ["--norc", "--noprofile", "-c", body] : ["-f", "-c", body];
  const r = spawnSync(shell, args, { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir } });
  if (r.status !== 0) throw new Error(`${shell} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The shell-quoted form of `s` (single quotes). */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** bash's completions of each line (cursor at its end), as bash computes them on Tab. */
function bashComplete(path: string, lines: string[]): string[][] {
  const body = [
    `source ${q(path)}`,
    `complete -p modelreg`,
    // As readline sets them: the line up to the cursor, the words (split at blanks here), the current word's index.
    `c() { COMP_LINE="$1"; COMP_POINT=\${#COMP_LINE}; read -ra COMP_WORDS <<< "$COMP_LINE"; [[ "$COMP_LINE" =~ [[:space:]]$ ]] && COMP_WORDS+=(""); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _modelreg modelreg "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"; echo "\${COMPREPLY[*]}"; }`,
    ...lines.map((l) => `c ${q(l)}`),
  ].join("\n");
  const [registered, ...out] = sh("bash", body).split("\n");
  expect(registered).toBe("complete -o default -F _modelreg modelreg");
  return out.slice(0, lines.length).map((l) => (l === "" ? [] : l.split(" ")));
}

describe("modelreg completion bash", () => {
  it.skipIf(!has("bash"))("completes commands, subcommands, options and their values in bash", async () => {
    const path = await script("bash");
    const got = bashComplete(path, [
      "modelreg ",
      "modelreg ver",
      "modelreg versions l",
      "modelreg version l", // an alias of versions
      "modelreg versions list --o",
      "modelreg versions list -o ",
      "modelreg --server http://localhost:8080 models list --output y",
      "modelreg pull fraud --output=j",
      "modelreg --protocol grpc-",
      "modelreg tasks create --type ",
      "modelreg completion ",
      "modelreg pull fraud:1.0.0 -d ",
      "modelreg worker --queue q -- pyth",
    ]);
    expect(got[0]).toEqual(expect.arrayContaining(["models", "versions", "push", "pull", "tasks", "worker", "completion", "help"]));
    expect(got[0]).not.toContain("--server");
    expect(got[1]).toEqual(["versions"]);
    expect(got[2]).toEqual(["list"]);
    expect(got[3]).toEqual(["list"]);
    expect(got[4]).toEqual(["--order-by", "--output"]);
    expect(got[5]).toEqual(["table", "json", "yaml"]);
    expect(got[6]).toEqual(["yaml"]);
    expect(got[7]).toEqual(["json"]);
    expect(got[8]).toEqual(["grpc-web"]);
    expect(got[9]).toEqual(taskTypeWords());
    expect(got[9]).toContain("train");
    expect(got[10]).toEqual(["bash", "zsh"]);
    // A path, or the program a worker runs: left to bash's file name completion.
    expect(got[11]).toEqual([]);
    expect(got[12]).toEqual([]);
  });

  it.skipIf(!has("bash"))("follows the program: a command added to it is completed with its options and their values", async () => {
    const b = bufferIo({});
    const program = createProgram(b.io, () => {
      throw new Error("not run");
    });
    program
      .command("zz-new")
      .description("a command added later")
      .addOption(new Option("--shade <shade>", "a shade").choices(["light", "dark"]))
      .addOption(completeWith(new Option("--mood <mood>", "any mood, these offered"), ["calm", "cross"]));
    const path = join(dir, "added.bash");
    await writeFile(path, completionScript(program, "bash"));
    const got = bashComplete(path, ["modelreg zz", "modelreg zz-new --", "modelreg zz-new --shade ", "modelreg zz-new --mood c"]);
    expect(got[0]).toEqual(["zz-new"]);
    expect(got[1]).toEqual(expect.arrayContaining(["--shade", "--mood", "--help", "--output"]));
    expect(got[2]).toEqual(["light", "dark"]);
    expect(got[3]).toEqual(["calm", "cross"]);
  });
});

it("refuses a shell it has no script for (exit 2), naming those it has", async () => {
  const b = bufferIo({});
  expect(await run(["completion", "fish"], b.io)).toBe(2);
  expect(b.stderr).toContain("Allowed choices are bash, zsh.");
  expect(b.stdout).toBe("");
});

describe("modelreg completion zsh", () => {
  const zsh = has("zsh");
  const title = zsh ? "completes commands, subcommands, options and their values in zsh" : "completes in zsh (skipped: zsh is not installed here)";
  it.skipIf(!zsh)(title, async () => {
    const path = await script("zsh");
    // compadd and _files stand in for zsh's completion widgets (which need a terminal): they print what they were given.
    const body = [
      "autoload -U compinit && compinit -u -D",
      `source ${q(path)}`,
      `print -r -- "registered: \${_comps[modelreg]}"`,
      `compadd() { while [[ $# -gt 0 && "$1" != -- ]]; do shift; done; shift; print -r -- "\${(j: :)@}"; }`,
      "_files() { print -r -- FILES; }",
      "compset() { return 0; }",
      `c() { words=(\${(z)1}); [[ $1 == *' ' ]] && words+=(''); CURRENT=\${#words}; _modelreg; }`,
      "c 'modelreg versions '",
      "c 'modelreg model l'",
      "c 'modelreg versions list -o '",
      "c 'modelreg --output=y'",
      "c 'modelreg completion '",
      "c 'modelreg push ./model.onnx '",
    ].join("\n");
    const out = sh("zsh", body).split("\n");
    expect(out[0]).toBe("registered: _modelreg");
    expect(out[1]!.split(" ")).toEqual(expect.arrayContaining(["create", "get", "list", "files", "update", "delete"]));
    // compadd filters by the prefix itself: all of the group's subcommands are offered.
    expect(out[2]!.split(" ")).toContain("list");
    expect(out[3]).toBe("table json yaml");
    expect(out[4]).toBe("table json yaml");
    expect(out[5]).toBe("bash zsh");
    expect(out[6]).toBe("FILES");
  });
});
