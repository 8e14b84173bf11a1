// `modelreg workers list|get`: the machines that run the workspace's tasks
// (what PaddleX's `/system` shows): CPUs, memory, GPUs with their memory
// total/used/free, queues, what each runs now and when it was last seen.
// `modelreg worker` (singular) runs one.
import { WorkerSchema } from "@modelreg/sdk";
import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { workerRef } from "../refs.js";
import { renderWorker, renderWorkersTable } from "../render-workers.js";
import { type ListFlags, limitOption, pageSizeFor, pageSizeOption, take } from "./options.js";

export function registerWorkerCommands(program: Command, context: (cmd: Command) => CommandContext): void {
  const workers = program
    .command("workers")
    .description("list the machines that run tasks: CPUs, memory, GPUs and their free memory, queues, running tasks, last seen")
    .addHelpText("after", "\nTo run a worker on this machine: modelreg worker --help.");
  workers
    .command("list")
    .alias("ls")
    .description("list the workspace's workers, by id")
    .option("--online", "only workers seen within the last lease period")
    .addOption(limitOption())
    .addOption(pageSizeOption())
    .action(async (flags: ListFlags & { online?: boolean }, cmd: Command) => {
      const { client, out, globals } = context(cmd);
      const pageSize = pageSizeFor(flags);
      const items = await take(client.listAllWorkers({ ...(flags.online ? { onlineOnly: true } : {}), ...(pageSize ? { pageSize } : {}) }), flags.limit);
      out.list(WorkerSchema, items, renderWorkersTable, `no ${flags.online ? "online " : ""}workers in workspace ${globals.workspace}`);
    });
  workers
    .command("get <worker>")
    .description("show one worker: its machine, each GPU's memory, queues, labels and running tasks")
    .action(async (ref: string, _flags: unknown, cmd: Command) => {
      const { client, out, globals } = context(cmd);
      const res = await client.tasks.getWorker({ name: workerRef(globals.workspace, ref) });
      out.one(WorkerSchema, res.worker!, renderWorker);
    });
}
