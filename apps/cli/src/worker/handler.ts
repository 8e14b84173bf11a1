// The task handler of `modelreg worker`: for each task, a directory and an
// environment (task-dir.ts), the program run in it (program.ts), and the
// attempt ended by how the program ended (outcomeOf). The SDK's runWorker
// does the rest: claims, reports, the signal on stop and cancel, and
// CompleteTask/FailTask from what this returns or throws.
import { rm } from "node:fs/promises";
import { TaskError, type TaskContext, type TaskHandler, type TaskResult } from "@modelreg/sdk";
import { outcomeOf, type ProgramSpec, runProgram } from "./program.js";
import { holdsFiles, prepareTaskDir, readResult } from "./task-dir.js";

export interface HandlerOptions extends Omit<ProgramSpec, "env" | "echo"> {
  /** The worker's environment, which the program inherits. */
  env: Record<string, string | undefined>;
  /** Where task directories are made. */
  root: string;
  server: string;
  workspace: string;
  /** Keep every task directory (for debugging). */
  keepDirs: boolean;
  /** The program's lines and the worker's notes, for the worker's terminal (task id first). */
  echo?: (taskId: string, line: string) => void;
}

/**
 * Task directories: removed when the program is done, except one whose
 * output files the SDK still uploads after the handler returns. Those are
 * removed once that is surely over: at the next task when the worker runs
 * one task at a time (the SDK ends an attempt before it claims again), and
 * when the worker stops.
 */
export interface DirCleanup {
  now(dir: string): Promise<void>;
  later(dir: string): void;
  /** A task starts: with one task at a time, every earlier one has ended. */
  taskStarts(): Promise<void>;
  all(): Promise<void>;
}

export function createDirCleanup(options: { keep: boolean; oneAtATime: boolean }): DirCleanup {
  const pending = new Set<string>();
  const remove = async (dir: string) => {
    if (!options.keep) await rm(dir, { recursive: true, force: true }).catch(() => {});
  };
  const all = async () => {
    const dirs = [...pending];
    pending.clear();
    await Promise.all(dirs.map(remove));
  };
  return {
    now: remove,
    later: (dir) => void pending.add(dir),
    taskStarts: () => (options.oneAtATime ? all() : Promise.resolve()),
    all,
  };
}

export function programHandler(o: HandlerOptions, cleanup: DirCleanup): TaskHandler {
  const what = [o.command, ...o.args].join(" ");
  return async (ctx: TaskContext): Promise<TaskResult | undefined> => {
    await cleanup.taskStarts();
    const taskId = ctx.task.name.slice(ctx.task.name.lastIndexOf("/") + 1);
    const echo = o.echo ? (line: string) => o.echo!(taskId, line) : undefined;
    echo?.(`attempt ${ctx.task.attempt}${ctx.resumeFrom ? `, resuming from epoch ${ctx.resumeFrom.epoch}` : ""}: ${what}`);
    const dir = await prepareTaskDir(ctx, { root: o.root, server: o.server, workspace: o.workspace });
    let keepForOutputs = false;
    try {
      const env = { PYTHONUNBUFFERED: "1", ...o.env, ...dir.env };
      const exit = await runProgram(ctx, { ...o, env, ...(echo ? { echo: (line) => echo(line) } : {}) });
      const outcome = outcomeOf(exit, ctx.signal.aborted, o.command);
      echo?.(`${exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`}${ctx.signal.aborted ? ` (${(ctx.signal.reason as Error).message})` : ""}`);
      if (outcome.kind === "aborted") throw ctx.signal.reason;
      if (outcome.kind === "failed") throw new TaskError(outcome.message, { retryable: outcome.retryable });
      const result = await resultOf(ctx, dir.resultFile);
      keepForOutputs = await holdsFiles(dir.outputDir);
      return { ...(result ? { result } : {}), ...(keepForOutputs ? { outputDir: dir.outputDir } : {}) };
    } finally {
      // The SDK reads the output files after this returns.
      if (keepForOutputs) cleanup.later(dir.dir);
      else await cleanup.now(dir.dir);
    }
  };
}

async function resultOf(ctx: TaskContext, path: string) {
  try {
    return await readResult(path);
  } catch (e) {
    // The program succeeded; a result that is not a JSON object is left out, and said so.
    ctx.log(`modelreg worker: the result file was left out: ${(e as Error).message}`, "stderr");
    return undefined;
  }
}
