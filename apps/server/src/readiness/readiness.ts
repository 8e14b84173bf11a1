// Readiness: whether this process can serve calls, which is whether its
// database is reachable and migrated (schemaState: one small query). /readyz
// checks on demand; the gRPC health service follows the periodic check
// (start()), so Check and Watch say NOT_SERVING while the database is
// unreachable and SERVING again once it answers. Between checks, the pool
// gate's "unreachable" (a call just failed to connect) counts at once.
//
// Checks run one at a time (callers at once share one) and one that
// finished less than REUSE_MS ago answers again, so /readyz, which needs no
// key, cannot be made to load the database. A check that does not answer
// within timeoutMs counts as failed; it is not started again while it hangs.
import { type Database, type DatabaseStats, schemaState } from "@modelreg/db";
import { errorCodes, isUnavailable } from "../domain/shared/db-errors.js";
import type { Logger } from "../logger.js";

export type ReadyState = { ready: true } | { ready: false; reason: string };

export interface Readiness {
  /** The state now: the last check's, unless the pool saw the database unreachable since, or the server is shutting down. */
  current(): ReadyState;
  /** Checks the database now (or shares the check in flight, or reuses one a moment old). */
  check(): Promise<ReadyState>;
  /** Told when the checks find the state turned (ready to not ready, or back). */
  onChange(listener: (state: ReadyState) => void): void;
  /** Checks every `everyMs`, until stop(). */
  start(): void;
  /** Stops checking; from now on the state is "shutting down". */
  stop(): void;
}

export interface ReadinessDeps {
  db: Database;
  logger: Logger;
  /** The pool's state (DatabaseHandle.stats); default: only checks tell. */
  databaseStats?: () => DatabaseStats;
  /** Periodic checks (start()): how often (default 2 s). */
  everyMs?: number;
  /** A check without an answer within this counts as failed (default 3 s). */
  timeoutMs?: number;
}

const REUSE_MS = 250;
const UNREACHABLE: ReadyState = { ready: false, reason: "the database could not be reached at the last attempt" };
const STOPPING: ReadyState = { ready: false, reason: "the server is shutting down" };

export function createReadiness(deps: ReadinessDeps): Readiness {
  const everyMs = deps.everyMs ?? 2000;
  const timeoutMs = deps.timeoutMs ?? 3000;
  const listeners: ((state: ReadyState) => void)[] = [];
  let last: ReadyState = { ready: true }; // the server migrated before it listened
  let checkedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<ReadyState> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const settle = (state: ReadyState) => {
    checkedAt = performance.now();
    if (stopped) return state;
    // A new reason while still not ready (refused, then timed out) is kept, not announced.
    const changed = state.ready !== last.ready;
    last = state;
    if (!changed) return state;
    if (state.ready) deps.logger.info("ready: the database answers again");
    else deps.logger.warn({ reason: state.reason }, "not ready");
    for (const l of listeners) l(state);
    return state;
  };

  const probe = async (): Promise<ReadyState> => {
    try {
      const s = await schemaState(deps.db);
      return s.migrated ? { ready: true } : { ready: false, reason: s.reason };
    } catch (err) {
      return failed(err, deps.logger);
    }
  };

  const check = (): Promise<ReadyState> => {
    if (stopped) return Promise.resolve(STOPPING);
    if (!inFlight && performance.now() - checkedAt < REUSE_MS) return Promise.resolve(last);
    if (!inFlight) {
      const p = probe().then((state) => {
        if (inFlight === p) inFlight = undefined;
        return settle(state);
      });
      inFlight = p;
    }
    let timeout: NodeJS.Timeout | undefined;
    const late = new Promise<ReadyState>((resolve) => {
      timeout = setTimeout(() => resolve(settle({ ready: false, reason: `the database did not answer within ${timeoutMs} ms` })), timeoutMs);
    });
    return Promise.race([inFlight, late]).finally(() => clearTimeout(timeout));
  };

  const loop = () => {
    timer = setTimeout(() => {
      void check().finally(() => {
        if (!stopped) loop();
      });
    }, everyMs);
    timer.unref();
  };

  return {
    current() {
      if (stopped) return STOPPING;
      if (last.ready && deps.databaseStats?.().unreachable) return UNREACHABLE;
      return last;
    },
    check,
    onChange: (listener) => void listeners.push(listener),
    start() {
      if (!timer && !stopped) loop();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** A failed check: the database out of reach (a short reason with its code), or something else (logged: it is not expected). */
function failed(err: unknown, logger: Logger): ReadyState {
  const code = errorCodes(err)[0];
  if (isUnavailable(err)) return { ready: false, reason: `the database is unreachable${code ? ` (${code})` : ""}` };
  logger.warn({ err }, "readiness: the database check failed");
  return { ready: false, reason: `the database check failed${code ? ` (${code})` : ""}; see the server's log` };
}
