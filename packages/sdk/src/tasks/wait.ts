// waitForTask(): resolves with the task once it rests in a final state
// (SUCCEEDED, FAILED, STOPPED or CANCELLED), read with GetTask so that its
// result, metrics and outputs are there. It rides on followTask (no logs),
// so a broken stream is picked up again and nothing is polled.
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Task, TaskService } from "@modelreg/proto";
import { followTask, type TaskWatchItem } from "./follow.js";
import { isFinalState, taskStateName } from "./names.js";

export interface WaitForTaskOptions {
  signal?: AbortSignal | undefined;
  /** Give up after this long (DeadlineExceeded); the task goes on. */
  timeoutMs?: number | undefined;
  /** Told of the task and each state change, progress, metric and checkpoint as they come. */
  onEvent?: ((item: TaskWatchItem) => void) | undefined;
}

export async function waitForTask(tasks: Client<typeof TaskService>, name: string, options: WaitForTaskOptions = {}): Promise<Task> {
  const timer = options.timeoutMs !== undefined ? AbortSignal.timeout(options.timeoutMs) : undefined;
  const signals = [options.signal, timer].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  let last: Task | undefined;
  try {
    for (;;) {
      const after = last?.lastSeq;
      for await (const item of followTask(tasks, name, { excludeLogs: true, ...(after !== undefined ? { afterSeq: after } : {}), ...(signal ? { signal } : {}) })) {
        options.onEvent?.(item);
      }
      // Read again: the final state with its result (or the task resumed meanwhile: wait on).
      last = (await tasks.getTask({ name }, signal ? { signal } : {})).task!;
      if (isFinalState(last.state)) return last;
    }
  } catch (err) {
    if (timer?.aborted && !options.signal?.aborted) {
      const now = last ? ` (${taskStateName(last.state)})` : "";
      throw new ConnectError(`task ${name} did not finish within ${options.timeoutMs} ms${now}; it goes on: wait again, or stop it`, Code.DeadlineExceeded);
    }
    throw err;
  }
}
