// The pool gate on its own (turns, the acquire timeout, no waiting while the
// database is unreachable), then openDatabase() against a listener that
// never answers (no PostgreSQL needed) and against PostgreSQL: a held pool
// refuses in bounded time, and a long query is not cut short.
import * as net from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "./open-database.js";
import { createPoolGate, gatedClient, isConnectFailure, onlyReads } from "./pool-gate.js";
import { createEmptyPostgres } from "./testing.js";

/** A promise and the function that settles it. */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

/** "ok", or the code of the error (or of the error it wraps: Drizzle wraps the driver's). */
const codeOf = (p: PromiseLike<unknown>) =>
  Promise.resolve(p).then(
    () => "ok",
    (e: unknown) => {
      for (let x = e as { code?: unknown; cause?: unknown } | undefined; x; x = x.cause as typeof x) if (typeof x.code === "string") return x.code;
      return String(e);
    },
  );

describe("createPoolGate", () => {
  it("lets `size` calls hold a connection at once and the others in, in turn", async () => {
    const gate = createPoolGate({ size: 2, acquireTimeoutMs: 60_000 });
    const held = [latch(), latch()];
    const order: number[] = [];
    const first = held.map((l, i) =>
      gate.run(async () => {
        await l.opened;
        order.push(i);
      }),
    );
    const third = gate.run(async () => order.push(2));
    expect(gate.stats()).toEqual({ inUse: 2, waiting: 1, unreachable: false });
    held[1]!.open();
    await third;
    held[0]!.open();
    await Promise.all(first);
    expect(order).toEqual([1, 2, 0]);
    expect(gate.stats()).toEqual({ inUse: 0, waiting: 0, unreachable: false });
  });

  it("refuses a call that found every connection busy for acquireTimeoutMs", async () => {
    const gate = createPoolGate({ size: 1, acquireTimeoutMs: 20 });
    const held = latch();
    const holder = gate.run(() => held.opened);
    expect(await codeOf(gate.run(async () => "never"))).toBe("POOL_ACQUIRE_TIMEOUT");
    held.open();
    await holder;
    expect(await gate.run(async () => "free again")).toBe("free again");
  });

  it("while the database is unreachable, refuses at once instead of queueing; a free connection still tries, and a success ends it", async () => {
    const gate = createPoolGate({ size: 1, acquireTimeoutMs: 60_000 });
    const held = latch();
    const probe = gate.run(async () => {
      await held.opened;
      throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    });
    const queued = codeOf(gate.run(async () => "never"));
    held.open();
    expect(await codeOf(probe)).toBe("ECONNREFUSED");
    expect(await queued).toBe("DATABASE_UNREACHABLE");
    expect(gate.stats().unreachable).toBe(true);
    // A free connection: the call tries the database again.
    const busy = latch();
    const retry = gate.run(() => busy.opened.then(() => "back"));
    expect(await codeOf(gate.run(async () => "never"))).toBe("DATABASE_UNREACHABLE");
    busy.open();
    expect(await retry).toBe("back");
    expect(gate.stats()).toEqual({ inUse: 0, waiting: 0, unreachable: false });
  });

  it("sends plain queries down busy connections, up to `pipeline` each, only once `size` calls ended well; transactions still wait for a connection", async () => {
    const gate = createPoolGate({ size: 2, acquireTimeoutMs: 60_000, pipeline: 3 });
    const hold = () => {
      const l = latch();
      return { l, done: gate.query(() => l.opened) };
    };
    // A cold pool (no call ended yet): a third query waits for a connection, as run() does.
    let a = [hold(), hold()];
    const cold = gate.query(async () => "cold");
    expect(gate.stats()).toEqual({ inUse: 2, waiting: 1, unreachable: false });
    for (const h of a) h.l.open();
    expect(await cold).toBe("cold");
    await Promise.all(a.map((h) => h.done));
    // Warm (three calls ended well): four more ride on the two busy connections, no fifth.
    a = [hold(), hold()];
    const piped = [hold(), hold(), hold(), hold()];
    expect(gate.stats()).toEqual({ inUse: 2, waiting: 4, unreachable: false });
    const fifth = gate.query(async () => "fifth");
    // A transaction is never sent down a busy connection; while it waits, no query overtakes it.
    const tx = gate.run(async () => "tx");
    const behindTx = gate.query(async () => "behind");
    expect(gate.stats()).toEqual({ inUse: 2, waiting: 7, unreachable: false });
    for (const h of [...a, ...piped]) h.l.open();
    expect(await Promise.all([fifth, tx, behindTx])).toEqual(["fifth", "tx", "behind"]);
    expect(gate.stats()).toEqual({ inUse: 0, waiting: 0, unreachable: false });
  });

  it("pipelines again once a waiting transaction has its connection, though queries that queued behind it still wait their turn", async () => {
    const gate = createPoolGate({ size: 2, acquireTimeoutMs: 60_000, pipeline: 3 });
    await Promise.all([1, 2, 3].map(() => gate.query(async () => "warm")));
    const holders = [latch(), latch()];
    const held = holders.map((l) => gate.query(() => l.opened));
    // Every connection busy: a transaction waits, and a query behind it waits too.
    const txHeld = latch();
    const tx = gate.run(() => txHeld.opened.then(() => "tx"));
    const behindTx = gate.query(async () => "behind");
    expect(gate.stats()).toEqual({ inUse: 2, waiting: 2, unreachable: false });
    // A connection frees: the transaction takes it; the query behind it keeps waiting for the next.
    holders[0]!.open();
    await held[0];
    expect(gate.stats()).toEqual({ inUse: 2, waiting: 1, unreachable: false });
    // No transaction waits now: a new query rides along a busy connection at once,
    // rather than queueing behind the waiting one (which, under steady load, never emptied).
    let rode = false;
    const rider = gate.query(async () => "rode").then((v) => {
      rode = true;
      return v;
    });
    await new Promise((r) => setImmediate(r)); // every promise job of this turn has run
    expect(rode).toBe(true);
    expect(await rider).toBe("rode");
    expect(gate.stats()).toEqual({ inUse: 2, waiting: 1, unreachable: false });
    // The next free connection goes to the query that waited.
    holders[1]!.open();
    expect(await behindTx).toBe("behind");
    txHeld.open();
    expect(await tx).toBe("tx");
    await held[1];
    expect(gate.stats()).toEqual({ inUse: 0, waiting: 0, unreachable: false });
  });

  it("never sends a query that is not pipelined down a busy connection: it waits its turn as run() does", async () => {
    const gate = createPoolGate({ size: 1, acquireTimeoutMs: 60_000, pipeline: 4 });
    await gate.query(async () => "warm");
    const held = latch();
    const holder = gate.query(() => held.opened);
    let read = false;
    const reader = gate.query(async () => {
      read = true;
      return "read";
    }, false);
    const writer = gate.query(async () => "write");
    await new Promise((r) => setImmediate(r)); // every promise job of this turn has run
    // The write rode along the busy connection; the read waits for it to free.
    expect(await writer).toBe("write");
    expect(read).toBe(false);
    expect(gate.stats()).toEqual({ inUse: 1, waiting: 1, unreachable: false });
    held.open();
    expect(await reader).toBe("read");
    await holder;
    expect(gate.stats()).toEqual({ inUse: 0, waiting: 0, unreachable: false });
  });

  it("takes statements that start with SELECT for reads, and anything else for writes", () => {
    for (const text of ["select 1", "  SELECT v.* FROM versions v", "\nselect\n*", "Select(1)"]) expect(onlyReads(text), text).toBe(true);
    for (const text of ["WITH m AS (SELECT 1 FOR UPDATE) INSERT INTO t SELECT * FROM m", "insert into t values (1)", "update t set a = 1", "selector", "", undefined])
      expect(onlyReads(text), String(text)).toBe(false);
  });

  it("gatedClient pipelines writes, not reads: the statement's text decides", async () => {
    const gate = createPoolGate({ size: 1, acquireTimeoutMs: 60_000, pipeline: 4 });
    await gate.query(async () => "warm");
    // A client in the shape Drizzle calls (unsafe(text), awaited): each query runs once it is started, and ends when let go.
    const started: string[] = [];
    const ends = new Map<string, () => void>();
    const client = {
      unsafe: (text: string) => ({
        // biome-ignore lint/suspicious/noThenProperty: stands for a postgres.js query, which Drizzle awaits
        then(onFulfilled: (v: string) => unknown, onRejected: (e: unknown) => unknown) {
          started.push(text);
          return new Promise<string>((r) => ends.set(text, () => r(text))).then(onFulfilled, onRejected);
        },
      }),
    };
    const gated = gatedClient(client, gate);
    const first = Promise.resolve(gated.unsafe("update t set a = 1"));
    const read = Promise.resolve(gated.unsafe("select * from t"));
    const write = Promise.resolve(gated.unsafe("with x as (select 1) insert into t select * from x"));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(["update t set a = 1", "with x as (select 1) insert into t select * from x"]);
    ends.get("update t set a = 1")!();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(started).toContain("select * from t");
    for (const end of ends.values()) end();
    expect(await Promise.all([read, write])).toEqual(["select * from t", "with x as (select 1) insert into t select * from x"]);
  });

  it("stops pipelining when a connection is lost, until `size` calls have ended well again; a query's own error does not stop it", async () => {
    const gate = createPoolGate({ size: 1, acquireTimeoutMs: 60_000, pipeline: 2 });
    await gate.query(async () => "warm");
    // A query's own error (a unique violation): the database answered, pipelining goes on.
    expect(await codeOf(gate.query(async () => Promise.reject(Object.assign(new Error("duplicate key"), { code: "23505" }))))).toBe("23505");
    let held = latch();
    let holder = gate.query(() => held.opened);
    const rider = gate.query(async () => "rode");
    expect(gate.stats()).toEqual({ inUse: 1, waiting: 1, unreachable: false });
    held.open();
    await Promise.all([holder, rider]);
    // A lost connection: the next query waits for a connection of its own.
    expect(await codeOf(gate.query(async () => Promise.reject(Object.assign(new Error("write CONNECTION_CLOSED"), { code: "CONNECTION_CLOSED" }))))).toBe("CONNECTION_CLOSED");
    held = latch();
    holder = gate.query(() => held.opened);
    const waiter = gate.query(async () => "waited");
    expect(gate.stats()).toEqual({ inUse: 1, waiting: 1, unreachable: false });
    held.open();
    expect(await waiter).toBe("waited");
    await holder;
    // One call ended well again (size 1): pipelining is back.
    held = latch();
    holder = gate.query(() => held.opened);
    const again = gate.query(async () => "again");
    expect(await again).toBe("again");
    held.open();
    await holder;
  });

  it("counts only failures to open a connection as unreachable, looking through wrappers", () => {
    const refused = Object.assign(new Error("refused"), { code: "ECONNREFUSED" });
    expect(isConnectFailure(new Error("Failed query", { cause: refused }))).toBe(true);
    expect(isConnectFailure(Object.assign(new Error("timeout"), { code: "CONNECT_TIMEOUT" }))).toBe(true);
    expect(isConnectFailure(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(isConnectFailure(Object.assign(new Error("closed"), { code: "CONNECTION_CLOSED" }))).toBe(false);
  });
});

describe("openDatabase on a PostgreSQL address that never answers", () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it("fails a call after the connect timeout, and the calls queued behind it at once", async () => {
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const { port } = silent.address() as net.AddressInfo;
    const handle = await openDatabase({ url: `postgres://nobody@127.0.0.1:${port}/none`, poolSize: 1, connectTimeoutMs: 200, acquireTimeoutMs: 60_000 });
    try {
      const calls = Array.from({ length: 5 }, () => codeOf(handle.db.execute(sql`select 1`)));
      expect(await Promise.all(calls)).toEqual(["CONNECT_TIMEOUT", "DATABASE_UNREACHABLE", "DATABASE_UNREACHABLE", "DATABASE_UNREACHABLE", "DATABASE_UNREACHABLE"]);
      // The next call tries again (and times out again): the pool keeps trying by itself.
      expect(await codeOf(handle.db.execute(sql`select 1`))).toBe("CONNECT_TIMEOUT");
    } finally {
      await handle.close();
    }
  });
});

const onPostgres = process.env.DATABASE_URL ? it : it.skip;
const skipNote = process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)";

onPostgres(`on PostgreSQL, a call waits for a busy pool at most acquireTimeoutMs, and a query longer than every timeout runs to its end${skipNote}`, async () => {
  const empty = await createEmptyPostgres();
  const handle = await openDatabase({ url: empty.url, poolSize: 1, connectTimeoutMs: 200, acquireTimeoutMs: 100 });
  try {
    const held = latch();
    const inside = latch();
    const tx = handle.db.transaction(async (t) => {
      await t.execute(sql`select 1`);
      inside.open();
      await held.opened;
    });
    await inside.opened;
    expect(await codeOf(handle.db.execute(sql`select 1`))).toBe("POOL_ACQUIRE_TIMEOUT");
    held.open();
    await tx;
    // Longer than the connect and acquire timeouts together: not cut.
    const rows = (await handle.db.execute(sql`select 1 as slept from pg_sleep(0.5)`)) as unknown as { slept: number }[];
    expect(rows[0]!.slept).toBe(1);
  } finally {
    await handle.close();
    await empty.drop();
  }
});
