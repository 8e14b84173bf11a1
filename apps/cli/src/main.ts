// The modelreg executable: run the CLI on the process's arguments and
// streams, and exit with its code.
import { run } from "./run.js";

// `modelreg models list -o json | head` closes the pipe early: not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
