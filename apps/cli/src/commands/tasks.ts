// `modelreg tasks ...`: create, inspect, change, stop, resume, cancel and
// delete tasks (training, evaluation, pruning, prediction and conversion
// runs that workers execute). The reads (logs, metrics, checkpoints,
// params, templates), register and watch are in task-reads.ts.
//
// A task is named by its id (`train-3f9a0c1e`, in --workspace) or its full
// name (`workspaces/{w}/tasks/{task}`).
import { completeWith } from "../completion/values.js";
import { resolve } from "node:path";
import type { DescEnum, JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import { type Task, TaskSchema, TaskStateSchema, type TaskType, TaskTypeSchema } from "@modelreg/sdk";
import { type Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { enumWords, parseEnumWord } from "../enum-words.js";
import { UsageError } from "../exit-codes.js";
import { collectLabel, labelMap, type Label } from "../labels.js";
import { modelRef, taskRef, versionRef, workspaceRef } from "../refs.js";
import { renderTask, renderTasksTable } from "../render-tasks.js";
import { collectSetting, type ParamFlags, paramsFromFlags, parseBytes, parseTaskType, taskTypeWords, wholeNumber } from "../task-flags.js";
import { buildUpdate, type UpdateFlags } from "../update-mask.js";
import {
  descriptionOption,
  etagOption,
  filterOption,
  type ListFlags,
  labelOption,
  limitOption,
  orderByOption,
  pageSizeFor,
  pageSizeOption,
  positiveInt,
  type SearchFlags,
  take,
  withUpdateOptions,
} from "./options.js";
import { registerTaskReadCommands } from "./task-reads.js";

export const taskNaming = "\nA task is named by its id (train-3f9a0c1e), in --workspace, or by its full name (workspaces/{w}/tasks/{task}).";

export const setOption = () =>
  new Option("--set <key=value>", "a param; repeat for several. The value is JSON when it parses (20, true, [2,3], \"20\"), else a string (MobileNetV2)").argParser(
    collectSetting,
  );
export const paramsFileOption = () => new Option("--params-file <file.json>", "params from a JSON object in a file (--set wins over it)");

interface CreateFlags extends ParamFlags {
  type: TaskType;
  id?: string;
  template?: string;
  queue?: string;
  model?: string;
  baseVersion?: string;
  parentTask?: string;
  dataVersion?: string;
  algorithm?: string;
  algorithmVersion?: string;
  gpus?: number;
  gpuMemory?: bigint;
  cpus?: number;
  require?: Label[];
  label?: Label[];
  description?: string;
  maxAttempts?: number;
  validateOnly?: boolean;
  input?: string;
  requestId?: string;
}

/** The task the create flags describe (the params as given: the server fills the defaults). */
async function taskFromFlags(ctx: CommandContext, flags: CreateFlags): Promise<MessageInitShape<typeof TaskSchema>> {
  const { client, io } = ctx;
  const params: JsonObject | undefined = await paramsFromFlags(flags, io);
  const requirements =
    flags.gpus !== undefined || flags.gpuMemory !== undefined || flags.cpus !== undefined || flags.require?.length
      ? { gpuCount: flags.gpus ?? 0, gpuMemoryBytes: flags.gpuMemory ?? 0n, cpuCount: flags.cpus ?? 0, labels: labelMap(flags.require ?? []) }
      : undefined;
  return {
    type: flags.type,
    description: flags.description ?? "",
    labels: labelMap(flags.label ?? []),
    template: flags.template ?? "",
    ...(params ? { params } : {}),
    queue: flags.queue ?? "",
    ...(requirements ? { requirements } : {}),
    baseVersion: flags.baseVersion ? versionRef(client, flags.baseVersion) : "",
    model: flags.model ? modelRef(client, flags.model) : "",
    parentTask: flags.parentTask ? taskRef(client, flags.parentTask) : "",
    dataVersion: flags.dataVersion ?? "",
    algorithmCode: flags.algorithm ?? "",
    algorithmVersion: flags.algorithmVersion ?? "",
    maxAttempts: flags.maxAttempts ?? 0,
  };
}

async function createTask(ctx: CommandContext, flags: CreateFlags): Promise<void> {
  const { client, out, io, globals } = ctx;
  const task = await taskFromFlags(ctx, flags);
  if (flags.input === undefined) {
    const res = await client.tasks.createTask({
      parent: workspaceRef(globals.workspace),
      taskId: flags.id ?? "",
      task,
      requestId: flags.requestId ?? "",
      validateOnly: flags.validateOnly ?? false,
    });
    out.one(TaskSchema, res.task!, renderTask);
    if (flags.validateOnly) ctx.note("note: --validate-only: the task above is what would be created; nothing was");
    return;
  }
  if (flags.validateOnly) throw new UsageError("--validate-only cannot be combined with --input (the input files would be uploaded)");
  // The input files: what the workspace lacks is uploaded, then the task is queued.
  const bar = ctx.progressBar("input");
  try {
    const made = await client.submitTask({
      type: flags.type,
      task,
      ...(flags.id ? { taskId: flags.id } : {}),
      ...(flags.requestId ? { requestId: flags.requestId } : {}),
      inputDir: io.cwd ? resolve(io.cwd, flags.input) : resolve(flags.input),
      onProgress: bar.onProgress,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    bar.stop();
    out.one(TaskSchema, made, renderTask);
  } finally {
    bar.stop();
  }
}

function addCreateCommand(tasks: Command, context: (cmd: Command) => CommandContext): void {
  tasks
    .command("create")
    .description("create a task: its params are the template's defaults with the ones given changed; the server checks them and names each that does not fit")
    .addOption(completeWith(new Option("--type <type>", `what the task does: ${taskTypeWords().join(", ")}`).argParser(parseTaskType), taskTypeWords()).makeOptionMandatory())
    .option("--id <task-id>", "the task's id (default: the server's <type>-<8 hex digits>)")
    .option("--template <template>", "params template: classification, detection, segmentation (train), default, or one of the workspace's (see tasks templates)")
    .addOption(setOption())
    .addOption(paramsFileOption())
    .option("--queue <queue>", "the queue workers take it from (default: default)")
    .option("--model <model>", "the model its outputs become versions of")
    .option("--base-version <model:version>", "a version to start from (base weights; the version worked on for evaluate, predict, convert)")
    .option("--parent-task <task>", "the task it builds on (prune-train: the train task it prunes)")
    .option("--data-version <version>", "version of the data set, recorded in the lineage of what it produces")
    .option("--algorithm <code>", "the training algorithm, e.g. fraud-xgb")
    .option("--algorithm-version <version>", "version of that algorithm")
    .addOption(new Option("--gpus <n>", "GPUs a worker must have").argParser(positiveInt))
    .addOption(new Option("--gpu-memory <size>", "free memory on each of those GPUs, e.g. 8GiB").argParser(parseBytes))
    .addOption(new Option("--cpus <n>", "CPU cores a worker must have").argParser(positiveInt))
    .addOption(new Option("--require <key=value>", "a worker label that must match, e.g. cuda=12; repeat for several").argParser<Label[]>(collectLabel))
    .addOption(labelOption())
    .addOption(descriptionOption())
    .addOption(new Option("--max-attempts <n>", "attempts before the task is FAILED (1-100, default 3)").argParser(positiveInt))
    .option("--input <dir>", "input files (predict): every file under the directory, uploaded (what the workspace lacks), then the task is queued")
    .option("--validate-only", "check everything and print the task as it would be created, without creating it")
    .option("--request-id <id>", "makes the create idempotent: a retry with the same id returns the task the first call created")
    .addHelpText(
      "after",
      `\nExamples:\n  modelreg tasks create --type train --set num_epochs=20 --set lr_decay_epochs=[10,15] --model fraud --data-version 2026-10\n  modelreg tasks create --type train --template detection --params-file params.json --gpus 1 --gpu-memory 8GiB --queue gpu\n  modelreg tasks create --type predict --base-version fraud:1.2.0 --input ./images\n  modelreg tasks params --type train > params.json     # the defaults, to edit and pass with --params-file`,
    )
    .action(async (flags: CreateFlags, cmd: Command) => createTask(context(cmd), flags));
}

const STATE_WORDS = enumWords(TaskStateSchema);

interface TaskListFlags extends ListFlags, SearchFlags {
  state?: string;
  type?: TaskType;
  queue?: string;
}

/** The list filter: the shortcut flags ANDed with --filter. */
export function taskFilter(flags: TaskListFlags): string {
  const parts: string[] = [];
  const valueName = (desc: DescEnum, n: number | undefined) => desc.values.find((v) => v.number === n)?.localName;
  if (flags.state) parts.push(`state = ${valueName(TaskStateSchema, parseEnumWord(TaskStateSchema, flags.state))}`);
  if (flags.type !== undefined) parts.push(`type = ${valueName(TaskTypeSchema, flags.type)}`);
  if (flags.queue) parts.push(`queue = ${JSON.stringify(flags.queue)}`);
  if (flags.filter) parts.push(parts.length > 0 ? `(${flags.filter})` : flags.filter);
  return parts.join(" AND ");
}

/** The action of `<verb> <task>`: the call on the task named, then the task it answers with. */
function showTaskAfter(context: (cmd: Command) => CommandContext, call: (client: CommandContext["client"], name: string) => Promise<{ task?: Task }>) {
  return async (ref: string, _flags: object, cmd: Command) => {
    const { client, out } = context(cmd);
    const res = await call(client, taskRef(client, ref));
    out.one(TaskSchema, res.task!, renderTask);
  };
}

function addReadCommands(tasks: Command, context: (cmd: Command) => CommandContext): void {
  tasks
    .command("get <task>")
    .description("show a task: state, progress, latest metrics, params, attempts, outputs, or why it failed")
    .action(showTaskAfter(context, (client, name) => client.tasks.getTask({ name })));

  tasks
    .command("list")
    .alias("ls")
    .description("list the tasks of the workspace, newest first")
    .addOption(new Option("--state <state>", "only tasks in this state").choices(STATE_WORDS))
    .addOption(completeWith(new Option("--type <type>", `only tasks of this type: ${taskTypeWords().join(", ")}`).argParser(parseTaskType), taskTypeWords()))
    .option("--queue <queue>", "only tasks of this queue")
    .addOption(filterOption('state = RUNNING AND labels.team = "risk"; fields: state, type, queue, model, parent_task, base_version, data_version, template, worker, labels.<key>, create_time, update_time'))
    .addOption(orderByOption("create_time or update_time, then asc or desc"))
    .addOption(limitOption())
    .addOption(pageSizeOption())
    .action(async (flags: TaskListFlags, cmd: Command) => {
      const { client, out, globals } = context(cmd);
      const filter = taskFilter(flags);
      const pageSize = pageSizeFor(flags);
      const items = await take(
        client.listAllTasks({ ...(filter ? { filter } : {}), ...(flags.orderBy ? { orderBy: flags.orderBy } : {}), ...(pageSize ? { pageSize } : {}) }),
        flags.limit,
      );
      out.list(TaskSchema, items, renderTasksTable, `no tasks in workspace ${globals.workspace}${filter ? ` matching ${filter}` : ""}`);
    });
}

function addChangeCommands(tasks: Command, context: (cmd: Command) => CommandContext): void {
  withUpdateOptions(tasks.command("update <task>"))
    .description("change a task's description, labels or max attempts, and its params while it has not run yet (the params given are merged over the defaults again)")
    .addOption(setOption())
    .addOption(paramsFileOption())
    .addOption(new Option("--max-attempts <n>", "attempts before the task is FAILED (1-100)").argParser(positiveInt))
    .action(async (ref: string, flags: UpdateFlags & ParamFlags & { etag?: string; maxAttempts?: number }, cmd: Command) => {
      const { client, out, io } = context(cmd);
      const params = await paramsFromFlags(flags, io);
      const own = (params ? 1 : 0) + (flags.maxAttempts !== undefined ? 1 : 0);
      const { paths, fields } = buildUpdate(flags, { paths: own, flags: "--set, --params-file, --max-attempts" });
      if (params) paths.push("params");
      if (flags.maxAttempts !== undefined) paths.push("max_attempts");
      const task = { ...fields, name: taskRef(client, ref), etag: flags.etag ?? "", ...(params ? { params } : {}), maxAttempts: flags.maxAttempts ?? 0 };
      const res = await client.tasks.updateTask({ task, updateMask: { paths } });
      out.one(TaskSchema, res.task!, renderTask);
    });

  tasks
    .command("delete <task>")
    .alias("rm")
    .description("delete a task that is not running, with its events, logs, metrics and checkpoints (needs an admin key)")
    .addOption(etagOption("delete"))
    .action(async (ref: string, flags: { etag?: string }, cmd: Command) => {
      const { client, out } = context(cmd);
      const name = taskRef(client, ref);
      await client.tasks.deleteTask({ name, etag: flags.etag ?? "" });
      out.result(`deleted task ${name}`, {});
    });

  tasks
    .command("stop <task>")
    .description("stop a task so that it can be resumed: a running one saves a checkpoint first (STOPPING, then STOPPED); a queued one stops at once")
    .action(showTaskAfter(context, (client, name) => client.tasks.stopTask({ name })));

  tasks
    .command("resume <task>")
    .description("queue a STOPPED or FAILED task again, from its latest committed checkpoint (or --epoch's), optionally with changed params")
    .addOption(new Option("--epoch <n>", "resume from this epoch's committed checkpoint").argParser(wholeNumber))
    .addOption(setOption())
    .addOption(paramsFileOption())
    .addHelpText("after", "\nExample:\n  modelreg tasks resume train-3f9a0c1e --epoch 5 --set num_epochs=20")
    .action(async (ref: string, flags: ParamFlags & { epoch?: number }, cmd: Command) => {
      const { client, out, io } = context(cmd);
      const params = await paramsFromFlags(flags, io);
      const res = await client.tasks.resumeTask({ name: taskRef(client, ref), ...(flags.epoch !== undefined ? { epoch: flags.epoch } : {}), ...(params ? { params } : {}) });
      out.one(TaskSchema, res.task!, renderTask);
    });

  tasks
    .command("cancel <task>")
    .description("cancel a task for good; a running one ends at its worker's next report")
    .action(showTaskAfter(context, (client, name) => client.tasks.cancelTask({ name })));
}

export function registerTaskCommands(program: Command, context: (cmd: Command) => CommandContext): void {
  const tasks = program
    .command("tasks")
    .alias("task")
    .description("run training, evaluation, pruning, prediction and conversion tasks on workers; watch, stop, resume them and register what they made")
    .addHelpText("after", `${taskNaming}\nWorkers run them: see modelreg worker --help.`);
  addCreateCommand(tasks, context);
  addReadCommands(tasks, context);
  addChangeCommands(tasks, context);
  registerTaskReadCommands(tasks, context);
}
