// SIGTERM: in-flight calls finish, the process exits 0, nothing acknowledged is lost;
// calls that only wait (a ClaimTask long poll, a WatchTask stream) end at once.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { afterAll, expect, it } from "vitest";
import { Code, createRegistryClient, errorDetails, TaskType } from "@modelreg/sdk";
import { createEmptyPostgres } from "@modelreg/db/testing";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { startHoldingProxy } from "./support/holding-proxy.js";
import { REPO_ROOT, SERVER_ARGS, startServer, tempDir } from "./support/server.js";
import { until } from "./support/until.js";

const dir = tempDir();
let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
afterAll(async () => {
  await db?.drop();
  dir.remove();
});

it(`finishes in-flight calls on SIGTERM and exits 0 (${process.env.DATABASE_URL ? "postgres" : "pglite"})`, async () => {
  db = process.env.DATABASE_URL ? await createEmptyPostgres() : undefined;
  const server = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
  const client = createRegistryClient({ baseUrl: server.url });
  const parent = (await client.models.createModel({ parent: "workspaces/default", modelId: "drain" })).model!.name;

  const calls = Array.from({ length: 64 }, () => client.versions.createVersion({ parent }));
  // Stop as soon as the first of them is answered: the rest are in flight.
  await Promise.race(calls);
  const stopped = server.stop("SIGTERM");
  const results = await Promise.allSettled(calls);
  const { code } = await stopped;
  expect(code).toBe(0);
  expect(server.output.some((l) => l.includes("shutting down"))).toBe(true);

  const ok = results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<{ version?: { uid: string } }>).value.version!.uid);
  const failed = results.filter((r) => r.status === "rejected").map((r) => errorDetails((r as PromiseRejectedResult).reason));
  // A call either completed, or was refused before it started (Unavailable): never cut mid-way.
  for (const f of failed) expect([Code.Unavailable], f.message).toContain(f.code);
  expect(ok.length).toBeGreaterThan(1);

  const again = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
  try {
    const c2 = createRegistryClient({ baseUrl: again.url });
    const stored: string[] = [];
    for await (const v of c2.listAllVersions("drain")) stored.push(v.uid);
    expect(stored.sort()).toEqual([...ok].sort());
  } finally {
    await again.stop();
  }
});

it("answers a waiting ClaimTask and ends a WatchTask at once on SIGTERM, without waiting out the grace period", async () => {
  const data = tempDir();
  // A grace far beyond the test's timeout: the exit must come from the waits ending, not from the grace running out.
  const server = await startServer({ dataDir: data.path, env: { SHUTDOWN_GRACE_MS: "3600000" } });
  try {
    const client = createRegistryClient({ baseUrl: server.url });
    const { worker } = await client.taskWorkers.registerWorker({ parent: "workspaces/default", workerId: "idle", worker: { queues: ["empty"] } });
    const { task } = await client.tasks.createTask({ parent: "workspaces/default", task: { type: TaskType.TRAIN, queue: "watched" } });

    // A watch in flight: its first message (the task) has come.
    const watch = client.tasks.watchTask({ name: task!.name, follow: true }, { timeoutMs: 0 })[Symbol.asyncIterator]();
    expect((await watch.next()).value?.kind.case).toBe("task");
    const watchEnded = (async () => {
      while (!(await watch.next()).done);
      return "ended";
    })();
    // A claim in its wait: the server has touched the worker's last-seen time before waiting.
    const ns = (t: Timestamp | undefined) => t!.seconds * 1_000_000_000n + BigInt(t!.nanos);
    const seenBefore = ns(worker!.lastSeenTime);
    const claim = client.taskWorkers.claimTask({ worker: worker!.name, waitSeconds: 60 });
    for (;;) {
      const { worker: now } = await client.tasks.getWorker({ name: worker!.name });
      if (ns(now!.lastSeenTime) > seenBefore) break;
    }

    const stopped = server.stop("SIGTERM");
    const answered = await claim;
    expect(answered.task).toBeUndefined(); // "no task", not an error: the worker asks again elsewhere
    expect(await watchEnded).toBe("ended"); // a clean end: followTask resumes from its after_seq
    expect((await stopped).code).toBe(0);
  } finally {
    await server.stop("SIGKILL");
    data.remove();
  }
});

const withPostgres = process.env.DATABASE_URL ? it : it.skip;
withPostgres(`keeps a SIGTERM that arrives while it starts, and stops cleanly with exit 0 once up${process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)"}`, async () => {
  const pg = await createEmptyPostgres();
  const target = new URL(pg.url);
  // The database connection is held at its first byte: the server is
  // mid-start (its signal handlers in place, the database not yet open)
  // for as long as the test likes.
  const proxy = await startHoldingProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const data = tempDir();
  try {
    proxy.holdAfter(0);
    const viaProxy = new URL(pg.url);
    viaProxy.host = new URL(proxy.url).host;
    const env = { ...process.env, PORT: "0", HOST: "127.0.0.1", DATA_DIR: data.path, LOG_LEVEL: "info", DATABASE_URL: viaProxy.toString(), DATABASE_CONNECT_TIMEOUT_MS: "600000" };
    const child = spawn(process.execPath, SERVER_ARGS, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
    const output: string[] = [];
    createInterface({ input: child.stdout! }).on("line", (line) => output.push(line));
    await until(() => proxy.perConnection.length > 0, "the server's first connection to the database");
    child.kill("SIGTERM");
    await until(() => output.some((l) => l.includes("shutting down once started")), "the server to note the signal");
    proxy.reset();
    expect(await exited, output.join("\n")).toBe(0);
    const messages = output.map((l) => JSON.parse(l).msg as string);
    expect(messages.findIndex((m) => m.startsWith("modelreg listening"))).toBeGreaterThan(messages.indexOf("shutting down once started"));
    expect(messages.at(-1)).toBe("stopped");
  } finally {
    await proxy.close();
    await pg.drop();
    data.remove();
  }
});
