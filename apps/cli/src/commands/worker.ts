// `modelreg worker --queue <q> -- <command> [args...]`: a worker that runs
// any program for each task it claims, so that training code in any
// language needs no SDK: params in a file and the environment, progress,
// metrics, checkpoints and versions asked for with lines on stdout (see
// worker/line-protocol.ts and apps/cli/README.md), SIGTERM on stop.
import { completeWith } from "../completion/values.js";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { TaskType } from "@modelreg/sdk";
import { type Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { UsageError } from "../exit-codes.js";
import { collectLabel, labelMap, type Label } from "../labels.js";
import { parseDuration, parseTaskType, taskTypeWords } from "../task-flags.js";
import { gpuReader } from "../worker/gpus.js";
import { createDirCleanup, programHandler } from "../worker/handler.js";
import { TASK_ENV_HELP } from "../worker/task-dir.js";
import { positiveInt } from "./options.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];

const protocolHelp = `
For each task the program runs in a fresh process group, in the worker's working directory, with:
${TASK_ENV_HELP.map(([k, v]) => `  ${k}\n      ${v}`).join("\n")}
  PYTHONUNBUFFERED=1 unless set, so a Python program's lines arrive as it prints them.

Its stdout and stderr lines become the task's log, except these requests on stdout (a line starting with
::verb, then key=value pairs; a value with spaces is "quoted", with \\" \\\\ \\n \\t \\r escapes):
  ::progress epoch=3 total_epochs=10 step=120 total_steps=400 fraction=0.3 eta_seconds=60 message="..."
  ::metric name=loss value=0.31 step=120 epoch=3          (step defaults to epoch; once per name and step)
  ::checkpoint dir=./ckpt/epoch3 epoch=3 metric.accuracy=0.91
      saves every file under dir as the epoch's checkpoint: uploaded, verified, committed
  ::register epoch=5 model=fraud version=1.2.0 description="..."   (or dir=<files> instead of epoch=)
      makes a committed checkpoint (or a directory's files) a READY version whose lineage names the task
checkpoint needs dir= and epoch=, metric name=, value= and step= or epoch=, register epoch= or dir=; the
rest may be left out (apps/cli/README.md has the grammar). A request that does not parse changes nothing:
the line is logged as it is, with a line saying why. Checkpoint and register are done one at a time, in order; the program need not
wait, but each is answered on its stdin (read it or not), in order:
  ::ok checkpoint epoch=3 name=workspaces/w/tasks/t/checkpoints/3
  ::error checkpoint epoch=3 message="..."
  ::ok register epoch=5 version=workspaces/w/models/fraud/versions/1.2.0
A stop or cancel of the task (or the worker stopping: Ctrl-C, SIGTERM) sends SIGTERM to the program's
group, and SIGKILL after --grace. On a stop, save a checkpoint, print ::checkpoint and exit 0.

How the program's end ends the task:
  exit 0                     SUCCEEDED (STOPPED if a stop was asked); files in MODELREG_OUTPUT_DIR become
                             its output files, a JSON object in MODELREG_RESULT_FILE its result
  after a stop/cancel, ended by the SIGTERM/SIGKILL sent: STOPPED (or CANCELLED)
  after the worker itself stopped: QUEUED again from the last checkpoint, the attempt not counted
  exit 2                     FAILED, not retried (the program says running it again cannot help)
  any other exit or signal   FAILED, retried from the last committed checkpoint while attempts remain

Examples:
  modelreg worker --queue gpu --concurrency 2 -- python3 train.py
  modelreg worker --queue default --type train --type evaluate --id box-1 -- ./run-task.sh`;

interface WorkerFlags {
  queue: string[];
  type?: TaskType[];
  concurrency: number;
  id?: string;
  label?: Label[];
  grace: number;
  workDir?: string;
  keepTaskDirs?: boolean;
  gpus: boolean;
}

/** The program's path, if it can be run: a path (relative to `cwd`), or a name found on PATH. */
export async function findProgram(command: string, path: string | undefined, cwd: string): Promise<string | undefined> {
  const candidates = command.includes("/") ? [isAbsolute(command) ? command : resolve(cwd, command)] : (path ?? "").split(delimiter).filter(Boolean).map((d) => join(d, command));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      if ((await stat(c)).isFile()) return c;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

async function runWorkerCommand(ctx: CommandContext, command: string, args: string[], flags: WorkerFlags): Promise<void> {
  const { client, io, globals } = ctx;
  const cwd = io.cwd ?? resolve();
  if (!(await findProgram(command, io.env.PATH, cwd))) throw new UsageError(`cannot run ${command}: not an executable file${command.includes("/") ? "" : " on PATH"}`);
  const root = flags.workDir ? resolve(cwd, flags.workDir) : tmpdir();
  const note = (text: string) => io.stderr.write(`modelreg worker: ${text}\n`);
  // --quiet (a global option): no notes and no copy of the program's lines; errors still.
  const info = globals.quiet ? () => {} : note;
  const cleanup = createDirCleanup({ keep: flags.keepTaskDirs ?? false, oneAtATime: flags.concurrency === 1 });
  const handler = programHandler(
    {
      command,
      args,
      cwd,
      env: io.env,
      graceMs: flags.grace,
      root,
      server: globals.server,
      workspace: globals.workspace,
      keepDirs: flags.keepTaskDirs ?? false,
      ...(globals.quiet ? {} : { echo: (taskId: string, line: string) => io.stderr.write(`[${taskId}] ${line}\n`) }),
    },
    cleanup,
  );
  // Ctrl-C or SIGTERM: no more claims; running programs get SIGTERM and their tasks go back to the queue.
  const stop = new AbortController();
  ctx.onTerminate?.(() => stop.abort());
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  const worker = client.runWorker({
    queues: flags.queue,
    ...(flags.type ? { types: flags.type } : {}),
    handler,
    concurrency: flags.concurrency,
    ...(flags.id ? { workerId: flags.id } : {}),
    labels: labelMap(flags.label ?? []),
    ...(flags.gpus ? { gpus: gpuReader() } : {}),
    signal,
    onError: (err, what) => note(`${what}: ${err instanceof Error ? err.message : String(err)}`),
  });
  worker.registered.then(
    (w) => info(`${w.name} takes tasks from ${w.queues.join(", ")} (${flags.concurrency} at a time); Ctrl-C to stop`),
    () => {},
  );
  signal.addEventListener("abort", () => info("stopping: running tasks get SIGTERM and go back to their queue"), { once: true });
  try {
    await worker.done;
  } finally {
    await cleanup.all();
  }
}

export function registerWorkerCommand(program: Command, context: (cmd: Command) => CommandContext): void {
  program
    .command("worker")
    .description("run tasks: claim them from --queue and run <command> for each (params in a file and the environment, progress/metrics/checkpoints from lines on its stdout)")
    .argument("<command>", "the program to run for each task (after --)")
    .argument("[args...]", "its arguments")
    .addOption(new Option("--queue <queue>", "a queue to take tasks from; repeat for several").argParser(collect).makeOptionMandatory())
    .addOption(completeWith(new Option("--type <type>", `only tasks of this type (${taskTypeWords().join(", ")}); repeat for several`).argParser((v: string, prev: TaskType[] = []) => [...prev, parseTaskType(v)]), taskTypeWords()))
    .addOption(new Option("--concurrency <n>", "tasks run at once").argParser(positiveInt).default(1))
    .option("--id <worker-id>", "the worker's stable id: lowercase letters, digits and -, from a letter (default: from the host name)")
    .addOption(new Option("--label <key=value>", "a worker label tasks can require (--require on tasks create); repeat for several").argParser<Label[]>(collectLabel))
    .addOption(new Option("--grace <duration>", "from SIGTERM to SIGKILL when a task is stopped or cancelled").argParser(parseDuration).default(30_000, "30s"))
    .option("--work-dir <dir>", "where the task directories are made (default: the system's temp directory)")
    .option("--keep-task-dirs", "keep each task's directory after it ends (they are removed by default)")
    .option("--no-gpus", "report no GPUs (by default nvidia-smi, when there is one, says which)")
    .addHelpText("after", protocolHelp)
    .action(async (command: string, args: string[], flags: WorkerFlags, cmd: Command) => runWorkerCommand(context(cmd), command, args, flags));
}
