// LISTEN/NOTIFY through the database handle, on both drivers: a NOTIFY sent
// in a transaction arrives when it commits (never when it rolls back), a
// stopped listener hears nothing more, and on PostgreSQL a NOTIFY from
// another handle (another server replica) arrives too, and a LISTEN that
// failed or was lost in an outage holds again once the database is back.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createEmptyPostgres, createTestDatabase, databaseTarget, describeEachDatabase, startOutageProxy, throughProxy } from "./testing.js";
import { openDatabase } from "./open-database.js";

/** Resolves once `check` holds, polling each turn of the event loop (a timeout only catches a hang). */
async function until(check: () => boolean, what: string, boundMs = 20_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describeEachDatabase("listen", (kind) => {
  it("hears a NOTIFY when its transaction commits, never one rolled back, and nothing after it stops", async () => {
    const t = await createTestDatabase(kind);
    try {
      const heard: string[] = [];
      const other: string[] = [];
      let listening = 0;
      const first = t.listen("test_channel", { onPayload: (p) => heard.push(p), onListening: () => listening++ });
      const second = t.listen("test_channel", { onPayload: (p) => other.push(p) });
      await Promise.all([first.ready, second.ready]);
      expect(listening).toBe(1);
      await t.db
        .transaction(async (tx) => {
          await tx.execute(sql`SELECT pg_notify('test_channel', 'rolled back')`);
          throw new Error("roll back");
        })
        .catch(() => {});
      await t.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_notify('test_channel', 'committed')`);
      });
      await until(() => heard.length > 0, "the committed notification");
      expect(heard).toEqual(["committed"]);
      await first.stop();
      await t.db.execute(sql`SELECT pg_notify('test_channel', 'after stop')`);
      // Both listeners are told of one notification together: once the other has it, the stopped one would have too.
      await until(() => other.includes("after stop"), "the second notification");
      expect(heard).toEqual(["committed"]);
      await second.stop();
    } finally {
      await t.close();
    }
  }, 60_000);

});

// Another handle is another process's connection: PostgreSQL only (PGlite serves one process).
const noPostgres = process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)";
describe.skipIf(!process.env.DATABASE_URL)(`listen across handles [postgres]${noPostgres}`, () => {
  it("hears a NOTIFY sent through another handle (another replica)", async () => {
    const t = await createTestDatabase("postgres");
    const replica = await openDatabase({ url: t.url!, poolSize: 1 });
    try {
      const heard: string[] = [];
      const listening = t.listen("test_channel", { onPayload: (p) => heard.push(p) });
      await listening.ready;
      await replica.db.execute(sql`SELECT pg_notify('test_channel', 'from the replica')`);
      await until(() => heard.length > 0, "the replica's notification");
      expect(heard).toEqual(["from the replica"]);
      await listening.stop();
    } finally {
      await replica.close();
      await t.close();
    }
  }, 60_000);
});

/** A fresh database, and its URL through an outage proxy in front of it. */
async function behindProxy() {
  const target = await createEmptyPostgres();
  const proxy = await startOutageProxy(databaseTarget(target.url));
  return { target, proxy, viaProxy: throughProxy(target.url, proxy.port) };
}

describe.skipIf(!process.env.DATABASE_URL)(`listen through an outage [postgres]${noPostgres}`, () => {
  it("LISTENs again after the connection is lost, and after a first try that failed, once the database is back", async () => {
    const { target, proxy, viaProxy } = await behindProxy();
    const handle = await openDatabase({ url: viaProxy, poolSize: 1, connectTimeoutMs: 2000 });
    const direct = await openDatabase({ url: target.url, poolSize: 1 });
    const heard: string[] = [];
    const errors: unknown[] = [];
    let held = 0;
    const handlers = { onPayload: (p: string) => heard.push(p), onListening: () => held++, onError: (e: unknown) => errors.push(e) };
    /** NOTIFYs through the other handle until one is heard (one sent before the LISTEN holds is lost, as in PostgreSQL). */
    const heardAfterNotify = async (payload: string) => {
      for (let sent = 0; !heard.includes(payload); sent++) {
        if (sent === 100) throw new Error(`"${payload}" was not heard after 100 NOTIFYs`);
        await direct.db.execute(sql`SELECT pg_notify('kept_channel', ${payload})`);
        await until(() => heard.includes(payload), `"${payload}" to be heard`, 200).catch(() => {});
      }
    };
    try {
      const kept = handle.listen("kept_channel", handlers);
      await kept.ready;
      expect(held).toBe(1);
      await heardAfterNotify("before");

      // The database goes away: the LISTEN is lost, and its tries fail while it is away.
      await proxy.set("refuse");
      await until(() => errors.length >= 2, "the lost LISTEN and a failed try");
      await proxy.set("forward");
      await until(() => held === 2, "the LISTEN to hold again");
      await heardAfterNotify("after the outage");
      await kept.stop();

      // A LISTEN whose first try fails (the database is away as the server starts) holds once it is back.
      await proxy.set("refuse");
      const late = handle.listen("kept_channel", { ...handlers, onListening: () => (held += 10) });
      await late.ready;
      expect(held).toBe(2);
      await proxy.set("forward");
      await until(() => held === 12, "the late LISTEN to hold");
      await heardAfterNotify("late");
      await late.stop();
    } finally {
      await handle.close();
      await direct.close();
      await proxy.close();
      await target.drop();
    }
  }, 60_000);

  it("stops at once while the database is away, without waiting on it", async () => {
    const { target, proxy, viaProxy } = await behindProxy();
    await proxy.set("blackhole");
    const handle = await openDatabase({ url: viaProxy, poolSize: 1, connectTimeoutMs: 60_000 });
    try {
      const kept = handle.listen("kept_channel", { onPayload: () => {} });
      // Its first try waits on a database that never answers; stop() does not.
      await kept.stop();
      await kept.ready;
    } finally {
      await handle.close();
      await proxy.close();
      await target.drop();
    }
  }, 60_000);
});
