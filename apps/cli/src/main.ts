// The modelreg executable: run the CLI on the process's arguments, streams,
// directories and terminal, and exit with its code.
import { homedir } from "node:os";
import { run } from "./run.js";
import { promptSecret, readAllStdin } from "./terminal.js";

// `modelreg models list -o json | head` closes the pipe early: not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

// Ctrl-C: the first stops a transfer cleanly (a pull keeps its partial files, all on disk, for the next pull to continue), a second exits at once.
const interrupt = new AbortController();
process.on("SIGINT", () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort(new Error("interrupted"));
});

// SIGTERM is caught only by a command that asks (the worker hands its tasks
// back first); a second one exits at once.
const onTerminate = (listener: () => void) => {
  let terminated = false;
  process.on("SIGTERM", () => {
    if (terminated) process.exit(143);
    terminated = true;
    listener();
  });
};

const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: { isTTY: process.stdin.isTTY === true, readAll: readAllStdin },
  ...(interactive ? { promptSecret } : {}),
  cwd: process.cwd(),
  homedir: homedir(),
}, { signal: interrupt.signal, onTerminate });
