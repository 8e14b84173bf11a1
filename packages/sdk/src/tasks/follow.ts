// followTask(): WatchTask as an async iterator that survives broken
// streams. The server sends the task first, then every event after
// `after_seq` in order; when the stream breaks (a dropped connection, a
// server restart) the iterator calls again with `after_seq` = the last
// sequence number it passed on, so the caller sees no gap and no event
// twice, and the task snapshot only once. A stream that ends cleanly ends
// the iteration only when the task rests in a final state (and the caller
// does not follow it beyond); otherwise it is picked up again too, since a
// server going down may end its streams cleanly.
import type { Client } from "@connectrpc/connect";
import type { Task, TaskEvent, TaskService } from "@modelreg/proto";
import { asConnectError, backoffMs, canceled, isNetworkError, isRetryable, type RetryPolicy, sleep } from "../transfers/retry.js";
import { isFinalState } from "./names.js";

/** What followTask yields: the task once (first), then each event. */
export type TaskWatchItem = { case: "task"; value: Task } | { case: "event"; value: TaskEvent };

export interface FollowTaskOptions {
  /** Events after this sequence number (default 0: every event still held; a Task's `lastSeq`: only what comes next). */
  afterSeq?: bigint | number | undefined;
  /** Keep going after the task stops, fails, is cancelled or succeeds (it may be resumed); end it with `signal`. */
  follow?: boolean | undefined;
  /** Leave log lines out. */
  excludeLogs?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Reconnects in a row without an event in between before giving up (default 10), and their backoff. */
  retry?: Partial<RetryPolicy> | undefined;
}

const FOLLOW_RETRY: RetryPolicy = { attempts: 10, baseDelayMs: 250, maxDelayMs: 5_000 };

/** A stream that broke (rather than a refusal): worth calling again. */
function isBroken(err: unknown): boolean {
  const e = asConnectError(err);
  return isRetryable(e) || isNetworkError(e.cause);
}

export async function* followTask(tasks: Client<typeof TaskService>, name: string, options: FollowTaskOptions = {}): AsyncGenerator<TaskWatchItem, void, undefined> {
  const policy = { ...FOLLOW_RETRY, ...options.retry };
  const signal = options.signal;
  let afterSeq = BigInt(options.afterSeq ?? 0);
  let snapshotSent = false;
  let failures = 0;
  for (;;) {
    // The state as of the newest message: the snapshot's, then each change after it.
    let state: Task["state"] | undefined;
    try {
      const stream = tasks.watchTask({ name, afterSeq, follow: options.follow ?? false, excludeLogs: options.excludeLogs ?? false }, { timeoutMs: 0, ...(signal ? { signal } : {}) });
      for await (const res of stream) {
        const kind = res.kind;
        if (kind.case === "task") {
          state = kind.value.state;
          if (!snapshotSent) {
            snapshotSent = true;
            yield { case: "task", value: kind.value };
          }
        } else if (kind.case === "event") {
          const event = kind.value;
          // Never twice, whatever the server sends.
          if (event.seq <= afterSeq) continue;
          afterSeq = event.seq;
          failures = 0;
          if (event.kind.case === "stateChange") state = event.kind.value.state;
          yield { case: "event", value: event };
        }
      }
      if (!options.follow && state !== undefined && isFinalState(state)) return;
    } catch (err) {
      if (signal?.aborted) throw canceled(signal);
      if (!isBroken(err)) throw err;
      if (++failures >= policy.attempts) throw asConnectError(err);
      const delayMs = backoffMs(failures, policy);
      policy.onRetry?.({ error: asConnectError(err), attempt: failures, delayMs });
      await sleep(delayMs, signal);
      continue;
    }
    if (signal?.aborted) return;
    // Ended cleanly short of a final state: the server went away; look again.
    if (++failures >= policy.attempts) throw new Error(`the watch of ${name} kept ending before the task finished`);
    await sleep(backoffMs(failures, policy), signal);
  }
}
