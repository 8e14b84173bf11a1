// One run of the CLI in a test, over buffered standard streams: its exit
// code and output, and the check that it succeeded.
import type { bufferIo } from "../io.js";
import { type CliDeps, run } from "../run.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json(): ReturnType<typeof JSON.parse>;
}

export async function runCli(argv: readonly string[], b: ReturnType<typeof bufferIo>, deps: CliDeps = {}): Promise<CliResult> {
  const code = await run(argv, b.io, deps);
  return { code, stdout: b.stdout, stderr: b.stderr, json: () => JSON.parse(b.stdout) };
}

/** The result of a run that must exit 0; otherwise the test fails with the command and its stderr. */
export function expectOk<R extends { code: number; stderr: string }>(argv: readonly string[], r: R): R {
  if (r.code !== 0) throw new Error(`modelreg ${argv.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}
