// Phase 1, claim latency: `waiters` workers each hold a claim in flight
// (ClaimTask, wait_seconds 30; the baseline: a claim loop that sleeps on
// LISTEN); then tasks are created one at a time, and each is timed from
// its create returning (committed) to a worker holding it. The next task
// is created once every waiter has its claim in flight again (and `gapMs`
// has passed for the claim to reach its wait). A claimed task is finished
// at once, untimed, so no lease runs out later.
import { TaskState } from "@modelreg/proto";
import { type Api, createTask, eachLimited, now, registerWorker, sleep, until } from "./common.js";
import { RAW_CHANNEL, type RawSide } from "./raw.js";

export interface ClaimOptions {
  tasks: number;
  waiters: number;
  gapMs: number;
}

export interface ClaimResult {
  /** ms from the create returning to the claim returning, per task; 0 when the claim returned first. */
  latencies: number[];
  /** Claims that returned before their create did. */
  early: number;
  /** ms of the creates themselves. */
  createMs: number[];
  errors: number;
  firstError: unknown;
}

interface Timing {
  created?: number;
  claimed?: number;
}

/** Creates tasks one by one, timing each from `create` returning to `claimed` being marked for it. */
async function drive(o: ClaimOptions, armed: () => number, create: () => Promise<string>, times: Map<string, Timing>): Promise<Omit<ClaimResult, "errors" | "firstError">> {
  const res = { latencies: [] as number[], early: 0, createMs: [] as number[] };
  for (let i = 0; i < o.tasks; i++) {
    await until(() => armed() === o.waiters, "every waiter to claim again");
    await sleep(o.gapMs);
    const t0 = now();
    const id = await create();
    const t1 = now();
    const t = times.get(id) ?? {};
    t.created = t1;
    times.set(id, t);
    res.createMs.push(t1 - t0);
    await until(() => t.claimed !== undefined, `task ${id} to be claimed`, 60_000, 1);
    if (t.claimed! < t1) res.early++;
    res.latencies.push(Math.max(0, t.claimed! - t1));
  }
  return res;
}

export async function claimModelreg(creator: Api, waiters: Api[], o: ClaimOptions): Promise<ClaimResult> {
  const names = await Promise.all(waiters.map((api, i) => registerWorker(api, `claim-${i}`, "claim")));
  const times = new Map<string, Timing>();
  const stop = new AbortController();
  let armed = 0;
  let errors = 0;
  let firstError: unknown;
  const loop = async (api: Api, worker: string) => {
    while (!stop.signal.aborted) {
      armed++;
      let claimed: Awaited<ReturnType<Api["workers"]["claimTask"]>>;
      try {
        claimed = await api.workers.claimTask({ worker, waitSeconds: 30 }, { signal: stop.signal });
      } catch (err) {
        if (!stop.signal.aborted) [errors, firstError] = [errors + 1, firstError ?? err];
        continue;
      } finally {
        armed--;
      }
      if (!claimed.task) continue;
      const t = times.get(claimed.task.name) ?? {};
      t.claimed = now();
      times.set(claimed.task.name, t);
      await api.workers.completeTask({ leaseToken: claimed.leaseToken, state: TaskState.SUCCEEDED });
    }
  };
  const loops = waiters.map((api, i) => loop(api, names[i]!));
  try {
    const r = await drive(o, () => armed, async () => (await createTask(creator, "claim")).name, times);
    return { ...r, errors, firstError };
  } finally {
    stop.abort();
    await Promise.allSettled(loops);
  }
}

export async function claimRaw(raw: RawSide, o: ClaimOptions, params: Record<string, unknown>): Promise<ClaimResult> {
  const times = new Map<string, Timing>();
  let stopped = false;
  let armed = 0;
  let errors = 0;
  let firstError: unknown;
  const wakers = new Set<() => void>();
  const wakeAll = () => {
    for (const w of wakers) w();
  };
  const listening = await raw.sql.listen(RAW_CHANNEL, (payload) => {
    if (payload.startsWith("q ")) wakeAll();
  });
  const loop = async (worker: string) => {
    while (!stopped) {
      // Listen before looking, as the server's claim does.
      let wake = () => {};
      const woken = new Promise<void>((r) => (wake = r));
      wakers.add(wake);
      try {
        const t = await raw.claim("claim", worker, 30);
        if (t) {
          const timing = times.get(t.id) ?? {};
          timing.claimed = now();
          times.set(t.id, timing);
          await raw.finish(t.id);
          continue;
        }
        armed++;
        await Promise.race([woken, sleep(5000)]);
        armed--;
      } catch (err) {
        [errors, firstError] = [errors + 1, firstError ?? err];
      } finally {
        wakers.delete(wake);
      }
    }
  };
  const loops = Array.from({ length: o.waiters }, (_, i) => loop(`raw-claim-${i}`));
  try {
    const r = await drive(o, () => armed, () => raw.create("claim", params), times);
    return { ...r, errors, firstError };
  } finally {
    stopped = true;
    wakeAll();
    await Promise.allSettled(loops);
    await listening.unlisten();
  }
}

/** Warms both sides up (JIT, plans, connections) with a few untimed claims. */
export async function warmClaims(creator: Api, raw: RawSide, params: Record<string, unknown>): Promise<void> {
  const worker = await registerWorker(creator, "claim-warmup", "claim-warmup");
  await eachLimited(Array.from({ length: 20 }, (_, i) => i), 1, async () => {
    await createTask(creator, "claim-warmup");
    const c = await creator.workers.claimTask({ worker, waitSeconds: 0 });
    if (c.task) await creator.workers.completeTask({ leaseToken: c.leaseToken, state: TaskState.SUCCEEDED });
    await raw.create("claim-warmup", params);
    await raw.claim("claim-warmup", "raw-warmup", 30);
  });
  await raw.finishAll();
}
