// SIGTERM: in-flight calls finish, the process exits 0, nothing acknowledged is lost;
// calls that only wait (a ClaimTask long poll, a WatchTask stream) end at once.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { afterAll, expect, it } from "vitest";
import { Code, createRegistryClient, errorDetails, ExportState, TaskType } from "@modelreg/sdk";
import { openDatabase } from "@modelreg/db";
import { createEmptyPostgres, databaseTarget } from "@modelreg/db/testing";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import * as http from "node:http";
import { join } from "node:path";
import { startTestS3Server } from "../apps/server/src/storage/testing/s3-server.js";
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

it(`hands a running export's job back on SIGTERM: QUEUED, no lease, its attempt not used up, and the next server finishes it without waiting out the lease (${process.env.DATABASE_URL ? "postgres" : "pglite"})`, async () => {
  // The blob store is a real S3 peer behind a holding proxy: once the
  // version's file is stored the proxy holds every byte the server sends to
  // S3, so the export, once RUNNING, cannot read its file nor write its
  // archive, and stays RUNNING however fast the machine is.
  const pg = process.env.DATABASE_URL ? await createEmptyPostgres() : undefined;
  const s3 = await startTestS3Server();
  const target = new URL(s3.endpoint);
  const proxy = await startHoldingProxy({ host: target.hostname, port: Number(target.port) });
  const data = tempDir();
  // A lease far beyond the test's timeout: only a hand-back lets the second server take the job.
  const env = (endpoint: string) => ({
    BLOB_STORE: `s3://${s3.bucket}/handback`,
    S3_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    JOB_LEASE_SECONDS: "3600",
    GC_INTERVAL_SECONDS: "0",
  });
  let second: Awaited<ReturnType<typeof startServer>> | undefined;
  const first = await startServer({ databaseUrl: pg?.url, dataDir: data.path, env: env(proxy.url) });
  try {
    const client = createRegistryClient({ baseUrl: first.url });
    await client.models.createModel({ parent: "workspaces/default", modelId: "handback" });
    const { version } = await client.versions.createVersion({ parent: "workspaces/default/models/handback" });
    const file = join(data.path, "weights.bin");
    await writeFile(file, randomBytes(4 * 1024 * 1024));
    await client.uploadFile(version!.name, file);

    proxy.holdAfter(0);
    const started = await client.startExport(version!.name, "tar.gz");
    // RUNNING is written by the job's handler once it has claimed the job.
    for (;;) {
      const { export: cur } = await client.exports.getExport({ name: started.name });
      if (cur!.state === ExportState.RUNNING) break;
      expect(cur!.state, "the export ended while S3 was held").toBe(ExportState.PENDING);
    }

    first.child.kill("SIGTERM");
    // Logged once the handler has been aborted; its clean-up (dropping the
    // half-written archive) then needs S3 again.
    await until(() => first.output.some((l) => l.includes("handing running jobs back to the queue")), "the server to abort the running export");
    proxy.reset();
    expect((await first.stop("SIGTERM")).code).toBe(0);

    // Handed back: queued at once, no lease, the interrupted try not counted.
    const handle = await openDatabase(pg ? { url: pg.url } : { dataDir: join(data.path, "pg") });
    try {
      const result: unknown = await handle.db.execute("SELECT state, attempts, lease_owner, lease_until, run_after <= now() AS due FROM jobs WHERE kind = 'export'");
      // postgres.js answers an array, PGlite an object with rows.
      const rows = (Array.isArray(result) ? result : (result as { rows: Record<string, unknown>[] }).rows) as Record<string, unknown>[];
      expect(rows.map((r) => ({ ...r, state: Number(r.state), attempts: Number(r.attempts) }))).toEqual([{ state: 1, attempts: 0, lease_owner: "", lease_until: null, due: true }]);
    } finally {
      await handle.close();
    }

    // The next server (S3 no longer held) takes it at once and finishes it on the first counted try.
    second = await startServer({ databaseUrl: pg?.url, dataDir: data.path, env: env(s3.endpoint) });
    const done = await createRegistryClient({ baseUrl: second.url }).waitForExport(started.name, { timeoutMs: 60_000 });
    expect(done.state).toBe(ExportState.SUCCEEDED);
    expect(done.attempts).toBe(1);
  } finally {
    await first.stop("SIGKILL");
    await second?.stop();
    await proxy.close();
    await s3.stop();
    await pg?.drop();
    data.remove();
  }
});

it("cuts a call still in flight when SHUTDOWN_GRACE_MS runs out, says so, and exits 0", async () => {
  const data = tempDir();
  // The body's own timeout far beyond the test's: only the grace can end the call.
  const server = await startServer({ dataDir: data.path, env: { SHUTDOWN_GRACE_MS: "500", REQUEST_BODY_TIMEOUT_MS: "3600000" } });
  try {
    const client = createRegistryClient({ baseUrl: server.url });
    await client.models.createModel({ parent: "workspaces/default", modelId: "grace" });
    const { version } = await client.versions.createVersion({ parent: "workspaces/default/models/grace" });
    const body = randomBytes(1024 * 1024);
    const sha256 = createHash("sha256").update(body).digest("hex");
    const staged = await client.files.stageVersionFiles({ name: version!.name, files: [{ path: "w.bin", sizeBytes: BigInt(body.length), sha256 }] });

    // An upload PUT whose body never finishes: 64 KiB of its 1 MiB are sent,
    // once the server's 100 Continue says the request reached its handler.
    const held = { response: undefined as number | undefined, closed: false };
    const req = http.request(staged.files[0]!.upload!.uploadUrl, {
      method: "PUT",
      headers: { "content-range": `bytes 0-${body.length - 1}/${body.length}`, "content-length": String(body.length), expect: "100-continue" },
    });
    req.on("response", (res) => {
      held.response = res.statusCode;
      res.resume();
    });
    req.on("error", () => {});
    req.on("close", () => {
      held.closed = true;
    });
    await new Promise<void>((resolve) => req.once("continue", () => req.write(body.subarray(0, 64 * 1024), () => resolve())));

    const stopped = await server.stop("SIGTERM");
    expect(stopped.code).toBe(0);
    await until(() => held.closed, "the held upload's connection to end");
    // Cut, not answered: the call was still held when the grace ran out.
    expect(held.response).toBeUndefined();
    const lines = server.output.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === "shutdown grace ran out: cutting the calls still in flight")).toEqual(
      expect.objectContaining({ graceMs: 500, connections: 1, http1Requests: 1 }),
    );
    expect(lines.at(-1)?.msg).toBe("stopped");
  } finally {
    await server.stop("SIGKILL");
    data.remove();
  }
});

const withPostgres = process.env.DATABASE_URL ? it : it.skip;
withPostgres(`keeps a SIGTERM that arrives while it starts, and stops cleanly with exit 0 once up${process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)"}`, async () => {
  const pg = await createEmptyPostgres();
  // The database connection is held at its first byte: the server is
  // mid-start (its signal handlers in place, the database not yet open)
  // for as long as the test likes.
  const proxy = await startHoldingProxy(databaseTarget(pg.url));
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
