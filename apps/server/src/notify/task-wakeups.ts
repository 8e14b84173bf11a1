// The tasks domain's wake-ups (domain/ports/task-wakeups.ts) over the
// database's LISTEN/NOTIFY: one LISTEN per process on the tasks channel,
// fanned out in process to the watchers of each task and the claims waiting
// on each workspace. Every replica LISTENs, so what a worker reports
// through one wakes the watchers on all. A notification carries ids only;
// the woken read the database. When the LISTEN is made again after a lost
// connection, notifications may have been missed meanwhile, so everyone is
// woken to read again. A LISTEN that fails or is lost is tried again until
// it holds (DatabaseHandle.listen); meanwhile watchers read at each keep-alive.
import type { DatabaseHandle } from "@modelreg/db";
import type { TaskWakeups } from "../domain/ports/task-wakeups.js";
import { TASK_CHANNEL } from "../domain/tasks/index.js";
import type { Logger } from "../logger.js";

export interface TaskWakeupsDeps {
  /** The database's LISTEN; unset: no notifications (watchers still read again at each keep-alive). */
  listen?: DatabaseHandle["listen"];
  logger: Logger;
}

export interface TaskWakeupsService extends TaskWakeups {
  /** Stops listening. */
  close(): Promise<void>;
}

type Listeners<T> = Map<string, Set<T>>;

function add<T>(map: Listeners<T>, key: string, listener: T): () => void {
  const set = map.get(key) ?? new Set<T>();
  map.set(key, set);
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && map.get(key) === set) map.delete(key);
  };
}

export function createTaskWakeups(deps: TaskWakeupsDeps): TaskWakeupsService {
  const events: Listeners<(seq: number) => void> = new Map();
  const queued: Listeners<() => void> = new Map();
  const call = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      deps.logger.warn({ err }, "a task wake-up listener failed");
    }
  };
  const dispatch = (payload: string) => {
    const [kind, key, seq] = payload.split(" ");
    if (kind === "e" && key) for (const l of events.get(key) ?? []) call(() => l(Number(seq)));
    else if (kind === "q" && key) for (const l of queued.get(key) ?? []) call(l);
  };
  const wakeAll = () => {
    for (const set of events.values()) for (const l of set) call(() => l(0));
    for (const set of queued.values()) for (const l of set) call(l);
  };
  let markReady = () => {};
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  // One warning per outage, and one line when the LISTEN holds again.
  let lost = false;
  const onListening = () => {
    markReady();
    if (lost) deps.logger.info({ channel: TASK_CHANNEL }, "listening for task notifications again");
    lost = false;
    wakeAll();
  };
  const onError = (err: unknown) => {
    if (!lost) deps.logger.warn({ err, channel: TASK_CHANNEL }, "not listening for task notifications; trying again, and watchers poll meanwhile");
    lost = true;
  };
  const listening = deps.listen?.(TASK_CHANNEL, { onPayload: dispatch, onListening, onError });
  // Watchers read once the first try has settled, listening or not.
  if (listening) void listening.ready.then(markReady);
  else markReady();
  return {
    onEvents: (taskRowId, listener) => add(events, taskRowId, listener),
    onQueued: (workspace, listener) => add(queued, workspace, listener),
    ready: () => ready,
    async close() {
      await listening?.stop().catch((err: unknown) => deps.logger.warn({ err }, "could not stop listening for task notifications"));
    },
  };
}
