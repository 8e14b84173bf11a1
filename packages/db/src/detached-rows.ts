// detachRows(): the postgres.js client handed to Drizzle, with every
// parameterised query's rows collected apart from the query object.
//
// Why: a finished postgres.js Query keeps what it resolved with (and its
// forEach callback), and finished queries stay reachable for V8's
// young-generation GC until the next full GC. So the rows of every query
// survived each scavenge and were copied into the old generation, and the
// scavenges grew long enough to dominate the tail of list calls
// (bench/search). With the rows collected through forEach() into an array
// of our own, and the callback dropped once the query is done, almost
// nothing survives a scavenge.
//
// What Drizzle calls is kept: `unsafe(text, params, options)`, awaited for
// row objects or `.values()` for arrays, resolving to an array carrying the
// Result's `count`, `command` and `columns`; `begin` and
// `savepoint` hand their callbacks a detached client too. A query without
// parameters runs as postgres.js runs it (the simple protocol, which may
// hold several statements and results), untouched.
import type { Sql } from "postgres";

type Row = Record<string, unknown> | unknown[];

export interface PendingQuery extends PromiseLike<unknown> {
  forEach(fn: (row: Row) => void): PendingQuery;
  values(): PendingQuery;
  forEachFn?: ((row: Row) => void) | null;
}

/** The Result fields copied onto the rows array (postgres.js defines them on its Result). */
const RESULT_FIELDS = ["count", "command", "columns"] as const;

async function collect(query: PendingQuery): Promise<Row[]> {
  const rows: Row[] = [];
  query.forEach((row) => {
    rows.push(row);
  });
  try {
    const result = (await query) as Record<string, unknown>;
    for (const f of RESULT_FIELDS) Object.defineProperty(rows, f, { value: result[f], writable: true });
    return rows;
  } finally {
    query.forEachFn = null;
  }
}

/**
 * A thenable like the postgres.js query Drizzle awaits (`await q` or
 * `await q.values()`), whose rows are detached from `query`. A class, not
 * an object of closures made per query: its methods live as long as the
 * process and keep their optimised code through full collections.
 */
export function detachQuery(query: PendingQuery): DetachedQuery {
  return new DetachedQuery(query);
}

class DetachedQuery implements PromiseLike<Row[]> {
  private running: Promise<Row[]> | undefined;
  constructor(private readonly query: PendingQuery) {}

  values(): this {
    this.query.values();
    return this;
  }

  // biome-ignore lint/suspicious/noThenProperty: Drizzle awaits the query, so it must be a thenable
  then<A = Row[], B = never>(onFulfilled?: ((rows: Row[]) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.running ??= collect(this.query);
    return this.running.then(onFulfilled, onRejected);
  }
}

export interface DetachOptions {
  /**
   * Parameterised statements with at most this many parameters run as
   * named prepared statements, kept per connection (0: none). See below.
   */
  prepareUpTo?: number;
}

/**
 * The most parameters a statement may have and still be prepared: larger
 * ones are batches (multi-row inserts, long IN lists) whose text changes
 * with their size, and would fill each connection's statement cache with
 * shapes seen once.
 */
export const PREPARE_UP_TO = 64;

/**
 * `client`, with its queries' rows detached (see above); everything else
 * passes through.
 *
 * Prepared statements: Drizzle runs every query through `unsafe()`, which
 * postgres.js does not prepare, so each parameterised statement cost two
 * round trips (Parse and Describe, wait for the parameter types, then Bind
 * and Execute) and a fresh parse and plan in PostgreSQL. With `prepareUpTo`
 * a statement is prepared the first time a connection runs it and is one
 * round trip (Bind and Execute) from then on. postgres.js keeps the
 * statements per connection, prepares again when PostgreSQL drops one
 * (a schema change), and retires connections after 30 to 60 minutes, which
 * bounds the cache in time. Drizzle passes `prepare: false` for every
 * query it did not name, so within the limit that is overridden.
 */
export function detachRows<T extends Sql>(client: T, options: DetachOptions = {}): T {
  const prepareUpTo = options.prepareUpTo ?? 0;
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "unsafe")
        return (text: string, params?: unknown[], opts?: { prepare?: boolean }) => {
          const n = params?.length ?? 0;
          const prepare = n > 0 && n <= prepareUpTo ? { ...opts, prepare: true } : opts;
          const query = (value as (...a: unknown[]) => PendingQuery).call(target, text, params, prepare);
          return n > 0 ? detachQuery(query) : query;
        };
      if (prop === "begin" || prop === "savepoint")
        return (...args: unknown[]) => {
          const last = args.length - 1;
          const fn = args[last];
          if (typeof fn === "function") args[last] = (tx: Sql) => fn(detachRows(tx, options));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      return value;
    },
  });
}
