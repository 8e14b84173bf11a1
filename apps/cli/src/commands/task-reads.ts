// `modelreg tasks logs|metrics|checkpoints|params|templates|register|watch`:
// what a task recorded, the params a new one would get, and what it made.
import { completeWith } from "../completion/values.js";
import { toJson } from "@bufbuild/protobuf";
import {
  CheckpointSchema,
  GetDefaultParamsResponseSchema,
  LogLineSchema,
  MetricSeriesSchema,
  ParamTemplateSchema,
  TaskState,
  type TaskType,
} from "@modelreg/sdk";
import { type Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import type { Label } from "../labels.js";
import { checkpointRef, taskRef, versionTarget, workerRef, workspaceRef } from "../refs.js";
import {
  logLineText,
  renderCheckpointsTable,
  renderLatestMetricsTable,
  renderSeriesTable,
  renderTemplatesTable,
  taskStateName,
} from "../render-tasks.js";
import { parseTaskType, taskTypeWords, wholeNumber } from "../task-flags.js";
import { dataText, streamItemText } from "../output.js";
import { watchTask } from "../task-watch.js";
import { createFields, descriptionOption, labelOption, positiveInt } from "./options.js";

type Context = (cmd: Command) => CommandContext;

/** One log line on stdout: its text (table), its proto JSON on one line (json), or a YAML document of it (yaml). */
function printLine(ctx: CommandContext, line: Parameters<typeof logLineText>[0], timestamps: boolean): void {
  const format = ctx.globals.output;
  ctx.io.stdout.write(format === "table" ? `${logLineText(line, timestamps)}\n` : streamItemText(format, toJson(LogLineSchema, line)));
}

interface LogFlags {
  tail?: number;
  follow?: boolean;
  timestamps?: boolean;
}

async function printLogs(ctx: CommandContext, name: string, flags: LogFlags): Promise<void> {
  const { client, signal } = ctx;
  const call = signal ? { signal } : {};
  const timestamps = flags.timestamps ?? false;
  let lastSeq = 0n;
  let dropped = 0n;
  if (flags.tail !== undefined) {
    const res = await client.tasks.listTaskLogs({ name, tail: flags.tail }, call);
    for (const line of res.lines) printLine(ctx, line, timestamps);
    lastSeq = res.lines.at(-1)?.seq ?? 0n;
    dropped = res.droppedLines;
  } else if (!flags.follow) {
    let pageToken = "";
    do {
      const res = await client.tasks.listTaskLogs({ name, pageToken }, call);
      for (const line of res.lines) printLine(ctx, line, timestamps);
      dropped = res.droppedLines;
      pageToken = res.nextPageToken;
    } while (pageToken);
  }
  if (dropped > 0n) ctx.note(`note: the ${dropped} oldest lines were dropped by the server's log cap`);
  if (!flags.follow) return;
  // Every line after the last one printed, as it comes, until the task finishes.
  for await (const item of client.followTask(name, { afterSeq: lastSeq, ...(signal ? { signal } : {}) })) {
    if (item.case !== "event" || item.value.kind.case !== "logs") continue;
    for (const line of item.value.kind.value.lines) if (line.seq > lastSeq) printLine(ctx, line, timestamps);
  }
}

function addLogsCommand(tasks: Command, context: Context): void {
  tasks
    .command("logs <task>")
    .description("print a task's log: every line held, or the last --tail lines; -f follows it until the task finishes")
    .addOption(new Option("--tail <n>", "only the last n lines (1-10000)").argParser(positiveInt))
    .option("-f, --follow", "then print new lines as they come, until the task succeeds, fails, stops or is cancelled")
    .option("--timestamps", "put each line's time first")
    .addHelpText("after", "\n-o json prints each line as a LogLine in proto JSON, one per line (JSON Lines).")
    .action(async (ref: string, flags: LogFlags, cmd: Command) => {
      const ctx = context(cmd);
      await printLogs(ctx, taskRef(ctx.client, ref), flags);
    });
}

function addMetricsCommand(tasks: Command, context: Context): void {
  tasks
    .command("metrics <task>")
    .description("show a task's metrics: each one's latest value, or with --name the series, downsampled to --max-points")
    .addOption(new Option("--name <metric>", "a metric's series; repeat for several").argParser((v: string, prev: string[] = []) => [...prev, v]))
    .addOption(new Option("--max-points <n>", "points per series at most (2-10000, default 1000); a longer series keeps its shape, first and last point").argParser(positiveInt))
    .addHelpText("after", "\n-o json prints the series (MetricSeries in proto JSON).")
    .action(async (ref: string, flags: { name?: string[]; maxPoints?: number }, cmd: Command) => {
      const { client, out, globals } = context(cmd);
      const name = taskRef(client, ref);
      const series = !!flags.name?.length;
      // The latest values need only each series' last point (always kept).
      const maxPoints = series || globals.output !== "table" ? (flags.maxPoints ?? 0) : 2;
      const res = await client.tasks.listTaskMetrics({ name, metricNames: flags.name ?? [], maxPoints });
      out.list(MetricSeriesSchema, res.series, series ? renderSeriesTable : renderLatestMetricsTable, `task ${name} has no metrics${series ? ` named ${flags.name!.join(", ")}` : ""}`);
    });
}

function addCheckpointsCommand(tasks: Command, context: Context): void {
  tasks
    .command("checkpoints <task>")
    .description("list a task's committed checkpoints by epoch: files, size, metrics (--all: also those still uploading)")
    .option("--all", "also checkpoints not committed yet")
    .action(async (ref: string, flags: { all?: boolean }, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = taskRef(client, ref);
      const res = await client.tasks.listTaskCheckpoints({ name, includePending: flags.all ?? false });
      out.list(CheckpointSchema, res.checkpoints, renderCheckpointsTable, `task ${name} has no ${flags.all ? "" : "committed "}checkpoints`);
    });
}

function addParamsCommands(tasks: Command, context: Context): void {
  tasks
    .command("params")
    .description("print the params a new task would get: the template's defaults, with the batch size fitted to the GPUs of --worker")
    .addOption(completeWith(new Option("--type <type>", `task type: ${taskTypeWords().join(", ")}`).argParser(parseTaskType), taskTypeWords()).makeOptionMandatory())
    .option("--template <template>", "the template (default: the type's)")
    .addOption(new Option("--worker <worker>", "fit the batch size to this worker's GPUs as it last reported them; repeat for several").argParser((v: string, prev: string[] = []) => [...prev, v]))
    .addHelpText("after", "\nPrints the params as a JSON object (notes on what was fitted go to stderr), ready for tasks create --params-file; -o json prints the whole answer: params, template with its schema, notes.")
    .action(async (flags: { type: TaskType; template?: string; worker?: string[] }, cmd: Command) => {
      const { client, io, globals, note } = context(cmd);
      const res = await client.tasks.getDefaultParams({
        parent: workspaceRef(globals.workspace),
        type: flags.type,
        template: flags.template ?? "",
        workers: (flags.worker ?? []).map((w) => workerRef(globals.workspace, w)),
      });
      if (globals.output !== "table") {
        io.stdout.write(dataText(globals.output, toJson(GetDefaultParamsResponseSchema, res, { alwaysEmitImplicit: true })));
        return;
      }
      io.stdout.write(`${JSON.stringify(res.params ?? {}, null, 2)}\n`);
      for (const text of res.notes) note(`note: ${text}`);
    });

  tasks
    .command("templates")
    .description("list the params templates: the built-in ones, then the workspace's own (-o json: with their JSON Schemas)")
    .addOption(completeWith(new Option("--type <type>", `only templates for this type: ${taskTypeWords().join(", ")}`).argParser(parseTaskType), taskTypeWords()))
    .action(async (flags: { type?: TaskType }, cmd: Command) => {
      const { client, out, globals } = context(cmd);
      const res = await client.tasks.listParamTemplates({ parent: workspaceRef(globals.workspace), type: flags.type ?? 0 });
      out.list(ParamTemplateSchema, res.templates, renderTemplatesTable, "no templates");
    });
}

interface RegisterFlags {
  checkpoint?: string;
  epoch?: number;
  model?: string;
  description?: string;
  label?: Label[];
  requestId?: string;
}

function addRegisterCommand(tasks: Command, context: Context): void {
  tasks
    .command("register <task>")
    .description("make a task's committed checkpoint (or a finished task's output files) a READY version; nothing is uploaded again and its lineage names the task")
    .option("--checkpoint <epoch|name>", "the checkpoint: its epoch or full name (default: the output files of a succeeded task, else its latest committed checkpoint)")
    .addOption(new Option("--epoch <n>", "the checkpoint of this epoch (as --checkpoint <n>)").argParser(wholeNumber).conflicts("checkpoint"))
    .option("--model <model[:version]>", "the model, and the version id (default: the task's model, and the next version)")
    .addOption(descriptionOption())
    .addOption(labelOption())
    .option("--request-id <id>", "makes the call idempotent: a retry with the same id returns the version the first call made")
    .action(async (ref: string, flags: RegisterFlags, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = taskRef(client, ref);
      const which = flags.epoch !== undefined ? String(flags.epoch) : flags.checkpoint;
      const target = flags.model ? versionTarget(client, flags.model) : { parent: "", versionId: "" };
      const res = await client.tasks.registerTaskOutput({
        name,
        checkpoint: which !== undefined ? checkpointRef(name, which) : "",
        model: target.parent,
        versionId: target.versionId,
        version: createFields(flags),
        requestId: flags.requestId ?? "",
      });
      out.version(res.version!);
    });
}

function addWatchCommand(tasks: Command, context: Context): void {
  tasks
    .command("watch <task>")
    .description("watch a task until it succeeds, fails, stops or is cancelled: a progress bar, the latest metrics, the state and the log tail; exit 0 if it succeeded, else 1")
    .addOption(new Option("--lines <n>", "log lines to show (0: none)").argParser(wholeNumber).default(10))
    .option("--no-logs", "leave log lines out")
    .addOption(new Option("--after-seq <seq>", "-o json: only events after this sequence number (default 0: every event held)").argParser(wholeNumber))
    .addHelpText(
      "after",
      "\nOn a terminal the view is redrawn in place; otherwise one line per change (state:, progress:, metrics:, checkpoint:, log:). -o json prints each WatchTask message as proto JSON, one per line.",
    )
    .action(async (ref: string, flags: { lines: number; logs: boolean; afterSeq?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const name = taskRef(ctx.client, ref);
      const ended = await watchTask(ctx, name, {
        logLines: flags.logs ? flags.lines : 0,
        excludeLogs: !flags.logs,
        ...(flags.afterSeq !== undefined ? { afterSeq: BigInt(flags.afterSeq) } : {}),
      });
      if (ended.state !== TaskState.SUCCEEDED) {
        throw new TaskEndedError(`task ${name} ended ${taskStateName(ended.state)}${ended.errorMessage ? `: ${ended.errorMessage}` : ""}`);
      }
    });
}

/** A watched task that did not succeed: exit 1 with its state. */
export class TaskEndedError extends Error {
  override readonly name = "TaskEndedError";
}

export function registerTaskReadCommands(tasks: Command, context: Context): void {
  addLogsCommand(tasks, context);
  addMetricsCommand(tasks, context);
  addCheckpointsCommand(tasks, context);
  addParamsCommands(tasks, context);
  addRegisterCommand(tasks, context);
  addWatchCommand(tasks, context);
}
