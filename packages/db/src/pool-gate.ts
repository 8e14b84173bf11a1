// The gate in front of the PostgreSQL pool: at most `size` calls hold a
// connection at once, the others wait their turn here, for at most
// `acquireTimeoutMs`; and while the database is unreachable (the last
// attempt to open a connection failed, none has succeeded since) nobody
// waits at all.
//
// Why a gate of our own: postgres.js 3 queued what its connections could
// not take inside itself, with no bound on the wait and no safe way to call
// a waiting query off. During an outage that queue drained one failed
// connection attempt after another, so the last caller waited for all of
// them. postgres.js 4 bounds that better, but the gate stays: a wait is
// ours to end, a call refused at the gate never reached the driver (nothing
// of it can run later), and its counts are the pool metrics.
//
// What the gate does not bound is the work itself: a query that has its
// connection runs as long as it runs (long exports, big transactions), and
// opening a connection is bounded by the driver's connect timeout.
//
// Pipelining: one query per connection at a time costs a write and a read
// (two system calls and a wake-up of the backend) per query. When every
// connection is busy, postgres.js sends further plain queries down busy
// connections in one write and reads their results together. The gate lets
// plain queries that write (query(), not transactions, not reads: see
// onlyReads below) ride along that way, up to
// `pipeline` per connection, but only while the pool is known good: the
// database reachable, the last `size` calls ended without losing a
// connection, and no transaction waiting at the gate (it needs a connection
// of its own and is not overtaken). Plain queries already queued at the
// gate (behind such a transaction, or while the pool was cold) do not stop
// it: each release hands its connection to the next in the queue, so while
// every newcomer joined it too, the queue never emptied under steady load,
// and one transaction at full load ended pipelining until the load fell.
// Queued queries keep their turn at the next free connection. A query sent
// down a busy connection is bound to it, so one sent while connections are
// being opened could wait out failed attempts: that is exactly when the
// gate does not pipeline.

/** Why a call did not get a connection; the server answers UNAVAILABLE. */
export class PoolUnavailableError extends Error {
  constructor(
    /** DATABASE_UNREACHABLE: the last connection attempt failed; POOL_ACQUIRE_TIMEOUT: every connection stayed busy. */
    readonly code: "DATABASE_UNREACHABLE" | "POOL_ACQUIRE_TIMEOUT",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PoolUnavailableError";
  }
}

export interface PoolGate {
  /** Runs `work` holding one of the pool's connections (a transaction). */
  run<T>(work: () => PromiseLike<T>): Promise<T>;
  /**
   * Runs one plain query: as run(), or, when every connection is busy, the
   * pool is known good and `pipelined` (the default), down a busy
   * connection (see above).
   */
  query<T>(work: () => PromiseLike<T>, pipelined?: boolean): Promise<T>;
  /**
   * Connections in use, calls waiting for one (at the gate, or sent down a
   * busy connection behind another query), and whether the database counts
   * as unreachable.
   */
  stats(): { inUse: number; waiting: number; unreachable: boolean };
}

export interface PoolGateOptions {
  /** Connections in the pool. */
  size: number;
  /** Longest wait for a free connection while the database answers. */
  acquireTimeoutMs: number;
  /** Plain queries one busy connection may carry at once (1: no pipelining). */
  pipeline?: number;
}

/** Driver and server codes of a connection that could not be opened (postgres.js, Node's net, SQLSTATE). */
export const CONNECT_FAILURES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "CONNECT_TIMEOUT",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P03", // cannot_connect_now: starting up or shutting down
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08004", // sqlserver_rejected_establishment_of_sqlconnection
]);

/** Codes of a connection lost while in use (postgres.js, Node's net, SQLSTATE). */
export const CONNECTION_LOSSES: ReadonlySet<string> = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "ECONNRESET",
  "EPIPE",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "08006", // connection_failure
]);

function hasCode(err: unknown, codes: ReadonlySet<string>): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && codes.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Whether `err` (or an error it wraps) says a connection could not be opened. */
export function isConnectFailure(err: unknown): boolean {
  return hasCode(err, CONNECT_FAILURES);
}

interface Waiter {
  /** A transaction (run()), which no plain query may overtake, rather than a plain query. */
  transaction: boolean;
  grant(): void;
  refuse(err: PoolUnavailableError): void;
}

const isTransaction = (w: Waiter) => w.transaction;

export function createPoolGate(options: PoolGateOptions): PoolGate {
  let inUse = 0;
  let unreachable: unknown;
  const waiting: Waiter[] = [];
  /** Plain queries sent down busy connections now, and the most there may be. */
  let piped = 0;
  const maxPiped = options.size * Math.max(0, (options.pipeline ?? 1) - 1);
  /** Calls ended since a connection was last lost or could not be opened. */
  let good = 0;

  const unreachableError = () =>
    new PoolUnavailableError("DATABASE_UNREACHABLE", "the database could not be reached at the last attempt; not waiting for a connection", { cause: unreachable });

  const release = () => {
    const next = waiting.shift();
    if (next) next.grant();
    else inUse--;
  };

  const acquire = (transaction: boolean): Promise<void> | undefined => {
    if (inUse < options.size) {
      inUse++;
      return undefined;
    }
    if (unreachable !== undefined) return Promise.reject(unreachableError());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        transaction,
        grant() {
          clearTimeout(timer);
          resolve();
        },
        refuse(err) {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(waiter), 1);
        reject(new PoolUnavailableError("POOL_ACQUIRE_TIMEOUT", `no database connection became free within ${options.acquireTimeoutMs} ms; every one stayed in use`));
      }, options.acquireTimeoutMs);
      waiting.push(waiter);
    });
  };

  const settle = (err?: unknown) => {
    if (err === undefined) {
      unreachable = undefined;
      good++;
    } else if (isConnectFailure(err)) {
      // Those waiting would only queue for a connection that cannot be opened.
      unreachable = err;
      good = 0;
      for (const w of waiting.splice(0)) w.refuse(unreachableError());
    } else if (hasCode(err, CONNECTION_LOSSES)) good = 0;
    else good++; // the database answered: a query's own error
  };

  const ended = async <T>(work: () => PromiseLike<T>, done: () => void): Promise<T> => {
    try {
      const result = await work();
      settle();
      return result;
    } catch (err) {
      settle(err);
      throw err;
    } finally {
      done();
    }
  };

  const withConnection = async <T>(work: () => PromiseLike<T>, transaction: boolean): Promise<T> => {
    const wait = acquire(transaction);
    if (wait) await wait;
    return ended(work, release);
  };

  return {
    run: (work) => withConnection(work, true),
    query(work, pipelined = true) {
      // Whether a transaction waits is looked at last: under steady load the queue is empty by then.
      if (!pipelined || inUse < options.size || piped >= maxPiped || unreachable !== undefined || good < options.size || waiting.some(isTransaction))
        return withConnection(work, false);
      piped++;
      return ended(work, () => void piped--);
    },
    stats: () => ({ inUse, waiting: waiting.length + piped, unreachable: unreachable !== undefined }),
  };
}

/**
 * `client` (the postgres.js client handed to Drizzle) with its top-level
 * queries and transactions run through `gate`. What Drizzle calls is kept:
 * `unsafe(...)` awaited or `.values()`, and `begin(fn)`; the client a
 * transaction hands its callback is not gated (it holds its connection).
 * A query starts only when awaited, so it starts once the gate lets it.
 */
export function gatedClient<T extends object>(client: T, gate: PoolGate): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === "unsafe" && typeof value === "function")
        return (...args: unknown[]) => gatedQuery((value as (...a: unknown[]) => Pending).apply(target, args), gate, !onlyReads(args[0]));
      if (prop === "begin" && typeof value === "function") return (...args: unknown[]) => gate.run(() => (value as (...a: unknown[]) => PromiseLike<unknown>).apply(target, args));
      return value;
    },
  });
}

interface Pending extends PromiseLike<unknown> {
  values(): unknown;
}

/**
 * Whether a statement only reads (it starts with SELECT): such a query is
 * not pipelined. A hint for scheduling only; a statement taken for the
 * wrong kind runs correctly either way.
 *
 * Why reads wait for a connection of their own: a read costs PostgreSQL a
 * little CPU and no waiting, so the server's event loop is what limits
 * them. Piped down busy connections they made every backend runnable at
 * once, competing with the event loop for the machine's cores, and the
 * server, PostgreSQL and the clients then ran in bursts with the cores idle
 * between them: GetVersion at 64 in flight on two cores, modelreg against
 * the bare baseline, 0.94x pipelined against 1.05x not (4 runs each, one
 * bench), though pipelined used 15% less CPU per call. A write waits on its
 * commit's WAL flush, so a backend with the next write already queued
 * overlaps that wait and PostgreSQL commits writes in groups: CreateVersion
 * at 64 in flight, 0.97x pipelined against 0.78x not.
 */
export function onlyReads(text: unknown): boolean {
  return typeof text === "string" && /^\s*select\b/i.test(text);
}

function gatedQuery(query: Pending, gate: PoolGate, pipelined: boolean) {
  let running: Promise<unknown> | undefined;
  const pending = {
    values() {
      query.values();
      return pending;
    },
    // biome-ignore lint/suspicious/noThenProperty: Drizzle awaits the query, so it must be a thenable
    then<A = unknown, B = never>(onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null) {
      running ??= gate.query(() => query, pipelined);
      return running.then(onFulfilled, onRejected);
    },
  };
  return pending;
}
