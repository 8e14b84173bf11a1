// A program the end-to-end tests run beside the server (a worker, the CLI):
// every line it writes, stdout and stderr as they arrive, its exit, and a
// stop that waits for it. Its lines are also kept for the failure message
// of a test that waited for one in vain.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface Child {
  pid: number;
  /** Every line written so far, stdout and stderr. */
  lines: string[];
  /** Whether a line holding `text` was written. */
  said(text: string): boolean;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (unless it has ended) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startChild(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Child {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", reject);
    // "close", not "exit": every line it wrote has been read by then.
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on("line", (line) => lines.push(line));
  return {
    pid: child.pid!,
    lines,
    said: (text) => lines.some((l) => l.includes(text)),
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
