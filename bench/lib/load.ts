// Closed-loop load: `workers` loops, each issuing its next call as soon as
// the previous one finished, until a deadline or a call count is reached
// (whichever comes first; at least one of them is always set).

export interface LoopOptions {
  workers: number;
  /** Issue no call after this many ms from the start. */
  durationMs?: number;
  /** Issue at most this many calls in all. */
  maxCalls?: number;
  /** One call; `n` counts calls from 0 in issue order. */
  call: (n: number) => Promise<unknown>;
}

export interface LoopResult {
  /** Wall time from the first call issued to the last call finished, in s. */
  seconds: number;
  /** Latency (ms) of each successful call, in completion order. */
  latenciesMs: number[];
  /** Completion time (ms from the start) of each successful call, same order. */
  doneAtMs: number[];
  errors: number;
  firstError: unknown;
}

const HARD_CAP_MS = 15 * 60_000;

export async function closedLoop(opts: LoopOptions): Promise<LoopResult> {
  if (opts.durationMs === undefined && opts.maxCalls === undefined) throw new Error("closedLoop needs durationMs or maxCalls");
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(Math.min(opts.durationMs ?? HARD_CAP_MS, HARD_CAP_MS) * 1e6));
  const maxCalls = opts.maxCalls ?? Number.MAX_SAFE_INTEGER;
  const res: LoopResult = { seconds: 0, latenciesMs: [], doneAtMs: [], errors: 0, firstError: undefined };
  let issued = 0;
  let end = start;

  const worker = async () => {
    while (issued < maxCalls) {
      const t0 = process.hrtime.bigint();
      if (t0 >= deadline) break;
      const n = issued++;
      try {
        await opts.call(n);
        const t1 = process.hrtime.bigint();
        res.latenciesMs.push(Number(t1 - t0) / 1e6);
        res.doneAtMs.push(Number(t1 - start) / 1e6);
      } catch (err) {
        res.errors++;
        res.firstError ??= err;
      }
      end = process.hrtime.bigint();
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, worker));
  res.seconds = Number(end - start) / 1e9;
  return res;
}
