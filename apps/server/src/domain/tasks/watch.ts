// Watching a task: the task as it is, then its events after a sequence
// number in order, then each new one as it commits. A wake-up (a NOTIFY
// from whichever replica recorded the event) only says that something
// after some sequence number exists; what it is comes from a read by
// sequence number, page by page at the watcher's own pace, so nothing is
// buffered for a slow watcher and a lost wake-up is made up by the read at
// the next keep-alive. The stream ends after the task reaches a final state
// (unless asked to follow), or when the caller goes away.
import type { Database } from "@modelreg/db";
import { NotFoundError } from "../shared/errors.js";
import type { TaskWakeups } from "../ports/task-wakeups.js";
import type { Scope } from "../shared/scope.js";
import { lastSeqOf } from "./events-sql.js";
import { getTask } from "./lifecycle.js";
import { checkAfterSeq, EVENT_PAGE, type EventPage, readEvents } from "./reads.js";
import { isFinished } from "./rules.js";
import type { TaskEventRecord, TaskView } from "./types.js";

/** One message of a watch. */
export type WatchItem = { kind: "task"; task: TaskView } | { kind: "event"; event: TaskEventRecord } | { kind: "keepAlive"; time: Date };

export interface WatchOptions {
  /** Keep watching after the task stops, fails, is cancelled or succeeds. */
  follow: boolean;
  excludeLogs: boolean;
}

export interface WatchContext {
  db: Database;
  wakeups: TaskWakeups;
  /** Quiet time before a keep-alive. */
  keepAliveMs: number;
  /**
   * Reads in flight, by task, range and kind: the watchers of one task that
   * a NOTIFY wakes together are at the same cursor, and share one read
   * instead of making one each. An entry goes when its read settles.
   */
  reads: Map<string, Promise<WatchPage>>;
}

type WatchPage = Pick<EventPage, "events" | "through">;

function sharedRead(ctx: WatchContext, key: string, read: () => Promise<WatchPage>): Promise<WatchPage> {
  let page = ctx.reads.get(key);
  if (!page) {
    page = read().finally(() => ctx.reads.delete(key));
    ctx.reads.set(key, page);
  }
  return page;
}

/** A level-triggered flag: a wake-up while nobody waits is kept for the next wait. */
function createWaker() {
  let pending = false;
  let wakeWaiter: (() => void) | undefined;
  return {
    wake() {
      pending = true;
      wakeWaiter?.();
    },
    clear() {
      pending = false;
    },
    wait(ms: number, signal: AbortSignal): Promise<"woken" | "quiet" | "aborted"> {
      if (pending) return Promise.resolve("woken");
      if (signal.aborted) return Promise.resolve("aborted");
      return new Promise((resolve) => {
        const done = (how: "woken" | "quiet" | "aborted") => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          wakeWaiter = undefined;
          resolve(how);
        };
        const onAbort = () => done("aborted");
        const timer = setTimeout(() => done("quiet"), ms);
        signal.addEventListener("abort", onAbort, { once: true });
        wakeWaiter = () => done("woken");
      });
    },
  };
}

export async function* watchTask(ctx: WatchContext, scope: Scope, name: string, afterSeq: number, opts: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchItem> {
  checkAfterSeq(afterSeq);
  const task = await getTask(ctx.db, scope, name);
  const id = task.row.id;
  let cursor = afterSeq;
  // The latest sequence number a NOTIFY named: everything up to it has
  // committed (numbers are taken under the task's row lock, so commits come
  // in their order). 0 after a re-listen, when only a read can tell.
  let notified = 0;
  const waker = createWaker();
  // Subscribed before the first read: whatever commits after that read wakes it.
  const unsubscribe = ctx.wakeups.onEvents(id, (seq) => {
    notified = seq === 0 ? 0 : Math.max(notified, seq);
    if (seq === 0 || seq > cursor) waker.wake();
  });
  try {
    await ctx.wakeups.ready();
    yield { kind: "task", task };
    let state = task.row.state;
    let quiet = false;
    while (!signal.aborted) {
      waker.clear();
      const upto = notified > cursor ? notified : await lastSeqOf(ctx.db, id);
      if (upto === undefined) throw new NotFoundError("task", name);
      const key = `${id} ${cursor} ${upto} ${opts.excludeLogs}`;
      const page = await sharedRead(ctx, key, () => readEvents(ctx.db, { id, name: task.name }, cursor, upto, EVENT_PAGE, opts.excludeLogs));
      for (const event of page.events) {
        if (event.kind === "state") state = event.change.state;
        yield { kind: "event", event };
      }
      cursor = Math.max(cursor, page.through);
      if (page.through < upto) continue;
      // Caught up: a task in a final state has nothing more to say unless resumed.
      if (isFinished(state) && !opts.follow) return;
      if (quiet && page.events.length === 0) yield { kind: "keepAlive", time: new Date() };
      quiet = (await waker.wait(ctx.keepAliveMs, signal)) === "quiet";
    }
  } finally {
    unsubscribe();
  }
}
