// Phase 4, a killed worker: on a server whose leases last `leaseSeconds`,
// `n` workers each claim a task, report `reports` times a second apart and
// then stop (as a killed process would: nothing more is sent). Timed from
// the last report returning to the task being QUEUED again, as a
// WatchTask stream opened before the claim sees it. The baseline: raw
// reports extending a lease of the same length, and a raw sweep every
// second (as the server's), timed to the sweep's UPDATE returning.
import { TaskState } from "@modelreg/proto";
import { type Api, eachLimited, now, reportBody, reportRequest, sleep, until } from "./common.js";
import type { RawSide } from "./raw.js";
import { holdRawTasks, holdTasks } from "./report.js";

export interface LeaseOptions {
  tasks: number;
  reports: number;
  leaseSeconds: number;
}

export interface LeaseResult {
  /** ms from each worker's last report to its task being QUEUED again. */
  requeueMs: number[];
  errors: number;
  firstError: unknown;
}

const GIVE_UP_MS = 60_000;

export async function leaseModelreg(apis: Api[], o: LeaseOptions): Promise<LeaseResult> {
  const held = await holdTasks(apis, "lease", "lease");
  const stop = new AbortController();
  const queuedAt: (number | undefined)[] = held.map(() => undefined);
  const lastAt: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const watch = async (i: number) => {
    const h = held[i]!;
    try {
      for await (const m of h.api.tasks.watchTask({ name: h.name, afterSeq: BigInt(h.lastSeq), excludeLogs: true, follow: true }, { signal: stop.signal }))
        if (m.kind.case === "event" && m.kind.value.kind.case === "stateChange" && m.kind.value.kind.value.state === TaskState.QUEUED) {
          queuedAt[i] = now();
          return;
        }
    } catch (err) {
      if (!stop.signal.aborted) [errors, firstError] = [errors + 1, firstError ?? err];
    }
  };
  const watches = held.map((_, i) => watch(i));
  try {
    await eachLimited(held, held.length, async (h, i) => {
      for (let k = 0; k < o.reports; k++) {
        if (k > 0) await sleep(1000);
        await h.api.workers.reportProgress(reportRequest(h.leaseToken, reportBody(k, 2, 5, 100)));
        lastAt[i] = now();
      }
    });
    await until(() => queuedAt.every((t) => t !== undefined) || errors > 0, "the tasks to be queued again", GIVE_UP_MS, 10).catch(() => {});
    return { requeueMs: held.map((_, i) => (queuedAt[i] ?? NaN) - lastAt[i]!), errors, firstError };
  } finally {
    stop.abort();
    await Promise.allSettled(watches);
  }
}

export async function leaseRaw(raw: RawSide, o: LeaseOptions, params: Record<string, unknown>): Promise<LeaseResult> {
  const held = await holdRawTasks(raw, o.tasks, "lease", params, o.leaseSeconds);
  const index = new Map(held.map((t, i) => [t.id, i]));
  const queuedAt: (number | undefined)[] = held.map(() => undefined);
  const lastAt: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const sweeper = setInterval(() => {
    raw
      .sweep()
      .then((ids) => {
        const t = now();
        for (const id of ids) if (index.has(id)) queuedAt[index.get(id)!] = t;
      })
      .catch((err: unknown) => {
        [errors, firstError] = [errors + 1, firstError ?? err];
      });
  }, 1000);
  try {
    await eachLimited(held, held.length, async (t, i) => {
      for (let k = 0; k < o.reports; k++) {
        if (k > 0) await sleep(1000);
        await raw.report(t, reportBody(k, 2, 5, 100), o.leaseSeconds);
        lastAt[i] = now();
      }
    });
    await until(() => queuedAt.every((t) => t !== undefined), "the baseline's tasks to be queued again", GIVE_UP_MS, 10).catch(() => {});
    return { requeueMs: held.map((_, i) => (queuedAt[i] ?? NaN) - lastAt[i]!), errors, firstError };
  } finally {
    clearInterval(sweeper);
    await raw.finishAll();
  }
}
