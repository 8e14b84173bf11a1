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
 * `await q.values()`), whose rows are detached from `query`.
 */
export function detachQuery(query: PendingQuery) {
  let running: Promise<Row[]> | undefined;
  const pending = {
    values() {
      query.values();
      return pending;
    },
    // biome-ignore lint/suspicious/noThenProperty: Drizzle awaits the query, so it must be a thenable
    then<A = Row[], B = never>(onFulfilled?: ((rows: Row[]) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null) {
      running ??= collect(query);
      return running.then(onFulfilled, onRejected);
    },
  };
  return pending;
}

/** `client`, with its queries' rows detached (see above); everything else passes through. */
export function detachRows<T extends Sql>(client: T): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "unsafe")
        return (text: string, params?: unknown[], options?: object) => {
          const query = (value as (...a: unknown[]) => PendingQuery).call(target, text, params, options);
          return params && params.length > 0 ? detachQuery(query) : query;
        };
      if (prop === "begin" || prop === "savepoint")
        return (...args: unknown[]) => {
          const last = args.length - 1;
          const fn = args[last];
          if (typeof fn === "function") args[last] = (tx: Sql) => fn(detachRows(tx));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      return value;
    },
  });
}
