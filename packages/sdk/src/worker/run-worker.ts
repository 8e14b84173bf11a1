// runWorker(): registers the worker, then runs `concurrency` loops, each
// claiming a task (waiting up to ~30 s for one), running the handler on it
// and ending the attempt, until stopped. A server that restarts is ridden
// out: claims and registration are retried with backoff for as long as it
// takes, and a worker the server no longer knows registers again.
import { hostname as osHostname, availableParallelism, totalmem } from "node:os";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ClaimTaskResponse, Worker } from "@modelreg/proto";
import { workspaceName } from "../names.js";
import { taskTypeOf } from "../tasks/names.js";
import { TaskAbortError } from "./errors.js";
import { persist, WORKER_BACKOFF } from "./persist.js";
import { runTask } from "./run-task.js";
import type { TaskRun, WorkerDeps } from "./task-run.js";
import type { GpuInfoInit, RunWorkerOptions, WorkerHandle } from "./types.js";

const AGENT = `modelreg-sdk/0.1.0 node/${process.versions.node}`;

/** A worker id from the host name: lowercase letters, digits and `-`, from a letter, at most 63. */
export function defaultWorkerId(host: string): string {
  const id = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return id || "worker";
}

async function gpusOf(options: RunWorkerOptions): Promise<GpuInfoInit[] | undefined> {
  return typeof options.gpus === "function" ? await options.gpus() : options.gpus;
}

interface Loop {
  deps: WorkerDeps;
  options: RunWorkerOptions;
  shutdown: AbortSignal;
  running: Set<TaskRun>;
  onError: (err: unknown, what: string) => void;
  /** Registers (again); resolves with the worker's name. */
  register(): Promise<string>;
}

async function register(l: Omit<Loop, "register">): Promise<Worker> {
  const o = l.options;
  if (o.queues.length === 0) throw new Error("runWorker: give at least one queue");
  const host = o.hostname ?? osHostname();
  const gpus = await gpusOf(o);
  const request = {
    parent: workspaceName(o.workspace ?? l.deps.workspace),
    workerId: o.workerId ?? defaultWorkerId(host),
    worker: {
      queues: o.queues,
      types: (o.types ?? []).map(taskTypeOf),
      hostname: host,
      cpuCount: availableParallelism(),
      memoryBytes: BigInt(totalmem()),
      ...(gpus ? { gpus } : {}),
      labels: o.labels ?? {},
      concurrency: o.concurrency ?? 1,
      agent: AGENT,
    },
  };
  const res = await persist(() => l.deps.workers.registerWorker(request, { signal: l.shutdown }), {
    signal: l.shutdown,
    policy: WORKER_BACKOFF,
    onRetry: (err, ms) => l.onError(err, `registering the worker: retrying in ${ms} ms`),
  });
  return res.worker!;
}

/** One ClaimTask, retried while the server is out of reach; undefined when none came. */
async function claimOnce(l: Loop, worker: string): Promise<ClaimTaskResponse | undefined> {
  const waitSeconds = l.options.waitSeconds ?? 30;
  const gpus = await gpusOf(l.options);
  const claimed = await persist(
    () => l.deps.workers.claimTask({ worker, waitSeconds, ...(gpus ? { gpus } : {}) }, { signal: l.shutdown, timeoutMs: waitSeconds * 1000 + 30_000 }),
    { signal: l.shutdown, policy: WORKER_BACKOFF, onRetry: (err, ms) => l.onError(err, `claiming a task: retrying in ${ms} ms`) },
  );
  return claimed.task ? claimed : undefined;
}

/** Claims and runs tasks one after another until shutdown. */
async function slot(l: Loop, first: string): Promise<void> {
  let worker = first;
  while (!l.shutdown.aborted) {
    let claim: ClaimTaskResponse | undefined;
    try {
      claim = await claimOnce(l, worker);
    } catch (err) {
      if (l.shutdown.aborted) return;
      // The server forgot the worker (its row was removed): register again.
      if (err instanceof ConnectError && err.code === Code.NotFound) {
        l.onError(err, "the server does not know this worker: registering again");
        worker = await l.register();
        continue;
      }
      throw err;
    }
    if (!claim) continue;
    await runTask(l.deps, claim, {
      handler: l.options.handler,
      onError: l.onError,
      track: (run) => {
        l.running.add(run);
        // Claimed just as the worker was stopped: handed back at once.
        if (l.shutdown.aborted) run.abort("shutdown");
        return () => l.running.delete(run);
      },
    });
  }
}

export function runWorker(deps: WorkerDeps, options: RunWorkerOptions): WorkerHandle {
  const stopper = new AbortController();
  const running = new Set<TaskRun>();
  const onError = options.onError ?? ((err: unknown, what: string) => console.warn(`[modelreg worker] ${what}:`, err instanceof Error ? err.message : err));
  const base = { deps, options, shutdown: stopper.signal, running, onError };
  const loop: Loop = { ...base, register: async () => (await register(base)).name };
  const shutDown = () => {
    if (stopper.signal.aborted) return;
    stopper.abort(new TaskAbortError("shutdown"));
    for (const run of running) run.abort("shutdown");
  };
  const registered = register(base);
  const done = (async () => {
    let worker: Worker;
    try {
      worker = await registered;
    } catch (err) {
      if (stopper.signal.aborted) return;
      throw err;
    }
    let failure: { err: unknown } | undefined;
    const slots = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, () =>
      slot(loop, worker.name).catch((err: unknown) => {
        // A slot that cannot go on (e.g. a key without the worker role) stops the others.
        if (!stopper.signal.aborted) failure ??= { err };
        shutDown();
      }),
    );
    await Promise.all(slots);
    if (failure) throw failure.err;
  })();
  // Nobody need await `registered` for its rejection to count as handled: `done` carries it.
  registered.catch(() => {});
  const stop = (): Promise<void> => {
    shutDown();
    return done;
  };
  options.signal?.addEventListener("abort", shutDown, { once: true });
  if (options.signal?.aborted) shutDown();
  return { registered, stop, done };
}
