// Phase 2, reports under load: `workers` simulated workers, each holding a
// task of its own and reporting once a second (progress, `points` metric
// points, `lines` log lines), their first reports spread over the first
// second; a report that comes back late is followed at once by the next.
// Reports that start in the first `warmupSeconds` are not counted. The
// baseline runs the same loop over the raw report transaction, through a
// pool the size of the server's.
import { TaskState } from "@modelreg/proto";
import { type Api, createTask, eachLimited, now, registerWorker, type ReportBody, reportBody, reportRequest, sleep } from "./common.js";
import type { RawSide, RawTask } from "./raw.js";

export interface ReportShape {
  points: number;
  lines: number;
  lineBytes: number;
}

export interface PacedResult {
  latencies: number[];
  errors: number;
  firstError: unknown;
  /** Reports counted (after the warm-up). */
  reports: number;
  /** Return time (performance.now()) of each report, by `<loop>:<k>`. */
  returned: Map<string, number>;
}

/**
 * `n` loops, loop i sending report k at start + i/n s + k s (or as soon as
 * its previous report returned, when that is later); none is sent after
 * `seconds` have passed. Reports started in the first `warmupSeconds` are not counted.
 */
export async function paced(n: number, seconds: number, warmupSeconds: number, shape: ReportShape, send: (i: number, b: ReportBody) => Promise<void>): Promise<PacedResult> {
  const res: PacedResult = { latencies: [], errors: 0, firstError: undefined, reports: 0, returned: new Map() };
  const start = now();
  const end = start + seconds * 1000;
  const counted = start + warmupSeconds * 1000;
  const loop = async (i: number) => {
    for (let k = 0; ; k++) {
      const due = start + (i / n) * 1000 + k * 1000;
      // Bounded in time: a loop whose reports come back late sends fewer, not later.
      if (due >= end || now() >= end) return;
      const wait = due - now();
      if (wait > 0) await sleep(wait);
      const t0 = now();
      try {
        await send(i, reportBody(k, shape.points, shape.lines, shape.lineBytes));
        const t1 = now();
        res.returned.set(`${i}:${k}`, t1);
        if (t0 >= counted) {
          res.latencies.push(t1 - t0);
          res.reports++;
        }
      } catch (err) {
        res.errors++;
        res.firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: n }, (_, i) => loop(i)));
  return res;
}

export interface HeldTask {
  api: Api;
  worker: string;
  name: string;
  leaseToken: string;
  /** The task's last sequence number right after the claim. */
  lastSeq: number;
}

/** One registered worker per api, each holding a task of `queue` it claimed. */
export async function holdTasks(apis: Api[], prefix: string, queue: string): Promise<HeldTask[]> {
  const held: HeldTask[] = [];
  await eachLimited(apis, 16, async (api, i) => {
    const worker = await registerWorker(api, `${prefix}-${i}`, queue);
    await createTask(api, queue);
    const c = await api.workers.claimTask({ worker, waitSeconds: 5 });
    if (!c.task) throw new Error(`worker ${worker} found no task to claim on ${queue}`);
    held[i] = { api, worker, name: c.task.name, leaseToken: c.leaseToken, lastSeq: Number(c.task.lastSeq) };
  });
  return held;
}

/** Tasks of the baseline, queued and claimed. */
export async function holdRawTasks(raw: RawSide, n: number, queue: string, params: Record<string, unknown>, leaseSeconds = 30): Promise<RawTask[]> {
  const held: RawTask[] = [];
  await eachLimited(Array.from({ length: n }, (_, i) => i), 8, async (i) => {
    await raw.create(queue, params);
    // A claim racing other claims and creates can find nothing (a task it saw was taken, the next committed after its snapshot): look again.
    for (let tries = 0; !held[i]; tries++) {
      const t = await raw.claim(queue, `raw-${queue}-${i}`, leaseSeconds);
      if (t) held[i] = t;
      else if (tries > 100) throw new Error(`baseline: no task to claim on ${queue}`);
      else await sleep(10);
    }
  });
  return held;
}

export async function finishHeld(held: HeldTask[]): Promise<void> {
  await eachLimited(held, 16, async (h) => {
    await h.api.workers.completeTask({ leaseToken: h.leaseToken, state: TaskState.SUCCEEDED }).catch(() => {});
  });
}

export async function reportModelreg(apis: Api[], seconds: number, warmupSeconds: number, shape: ReportShape): Promise<PacedResult> {
  const held = await holdTasks(apis, "report", "report");
  try {
    return await paced(held.length, seconds, warmupSeconds, shape, async (i, b) => {
      await held[i]!.api.workers.reportProgress(reportRequest(held[i]!.leaseToken, b));
    });
  } finally {
    await finishHeld(held);
  }
}

export async function reportRaw(raw: RawSide, n: number, seconds: number, warmupSeconds: number, shape: ReportShape, params: Record<string, unknown>): Promise<PacedResult> {
  const held = await holdRawTasks(raw, n, "report", params);
  try {
    return await paced(n, seconds, warmupSeconds, shape, (i, b) => raw.report(held[i]!, b, 30));
  } finally {
    await raw.finishAll();
  }
}
