// The sweep of task leases: each process looks every `everyMs` for running
// tasks whose worker stopped reporting and ends their attempt (queued
// again, stopped, cancelled or failed; domain/tasks/lease.ts). Replicas
// sweep side by side: each task is taken under its row lock with SKIP
// LOCKED, so one replica ends it and the others pass over it.
import type { Logger } from "../logger.js";

export interface LeaseSweeper {
  start(): void;
  /** Resolves once a sweep in flight has finished. */
  stop(): Promise<void>;
  /** One sweep now (tests, and the first look at start). */
  sweepNow(): Promise<number>;
}

export function createLeaseSweeper(opts: { sweep: () => Promise<number>; everyMs: number; logger: Logger }): LeaseSweeper {
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<number> | undefined;
  const sweepNow = (): Promise<number> => {
    inFlight ??= opts
      .sweep()
      .then((ended) => {
        if (ended > 0) opts.logger.info({ ended }, "task leases ran out: attempts ended");
        return ended;
      })
      .catch((err: unknown) => {
        opts.logger.warn({ err }, "could not sweep task leases; trying again at the next tick");
        return 0;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  return {
    start() {
      timer ??= setInterval(() => void sweepNow(), opts.everyMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
    sweepNow,
  };
}
