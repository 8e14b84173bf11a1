// A training worker: takes TRAIN tasks from a queue and runs train() on
// each, until Ctrl-C or SIGTERM (a task running then is saved at the end of
// its epoch and handed back to the queue, to go on from that checkpoint).
//
//   MODELREG_ACCESS_KEY=<a worker key> npx tsx --conditions=@modelreg/source examples/training-worker/src/main.ts
//
// Environment: MODELREG_SERVER (default http://localhost:8080),
// MODELREG_ACCESS_KEY (a key with the worker role), MODELREG_WORKSPACE
// (default "default"), MODELREG_QUEUE (default "train"; several with
// commas), MODELREG_WORKER_ID (default: from the host name).
import { createRegistryClient } from "@modelreg/sdk";
import { train } from "./train.js";

const env = process.env;
const client = createRegistryClient({
  baseUrl: env.MODELREG_SERVER ?? "http://localhost:8080",
  workspace: env.MODELREG_WORKSPACE ?? "default",
});
const queues = (env.MODELREG_QUEUE ?? "train").split(",");
const worker = client.runWorker({
  queues,
  types: ["TRAIN"],
  handler: train,
  ...(env.MODELREG_WORKER_ID ? { workerId: env.MODELREG_WORKER_ID } : {}),
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.log(`${signal}: stopping (a running task is saved and handed back)`);
    void worker.stop();
  });
}
const registered = await worker.registered;
console.log(`${registered.name} takes TRAIN tasks from ${queues.join(", ")}`);
// Rejects when the worker cannot go on, e.g. a key without the worker role: the process then fails.
await worker.done;
