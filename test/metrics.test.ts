// Prometheus metrics of a real server process on METRICS_PORT, scraped
// after a few calls: RPCs per method and code with their latency buckets
// (a server stream counted when it ends), the bytes of the signed upload
// and download routes, jobs by kind and state, the database pool, and the
// process. On PGlite and, with DATABASE_URL, PostgreSQL.
import { createHash, randomBytes } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import postgres from "postgres";
import { Code, ConnectError, createRegistryClient, ExportFormat } from "@modelreg/sdk";
import { startServer, type ServerProcess } from "./support/server.js";
import { metricsUrlOf, sample, scrape } from "./support/metrics.js";
import { until } from "./support/until.js";

describeEachDatabase("metrics", (backend) => {
  let server: ServerProcess | undefined;
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("count calls per method and code, bytes in and out, jobs, the pool and the process", async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    // One query per connection (DATABASE_PIPELINE=1), so that the calls the
    // test blocks hold every connection of the pool: with pipelining, a call
    // may queue behind a busy connection while another connection is free,
    // and "every connection in use" is not a state the pool must reach. How
    // piped queries are counted is pinned in @modelreg/db's pool-gate.test.ts.
    server = await startServer({
      databaseUrl: db?.url,
      env: { METRICS_PORT: "0", DATABASE_POOL_SIZE: "4", DATABASE_ACQUIRE_TIMEOUT_MS: "3600000", DATABASE_PIPELINE: "1" },
    });
    const metricsUrl = metricsUrlOf(server.output);
    const client = createRegistryClient({ baseUrl: server.url });

    await client.models.createModel({ parent: "workspaces/default", modelId: "metered" });
    for (let i = 0; i < 3; i++) await client.models.getModel({ name: "workspaces/default/models/metered" });
    const missing = await client.models.getModel({ name: "workspaces/default/models/absent" }).catch((e: unknown) => e);
    expect(ConnectError.from(missing).code).toBe(Code.NotFound);

    // Bytes up and down the signed URLs, then read back through the ReadFile stream.
    const data = randomBytes(3 << 20);
    const { version } = await client.versions.createVersion({ parent: "workspaces/default/models/metered" });
    const sha256 = createHash("sha256").update(data).digest("hex");
    const staged = await client.files.stageVersionFiles({ name: version!.name, files: [{ path: "w.bin", sizeBytes: BigInt(data.length), sha256 }] });
    const put = await fetch(staged.files[0]!.upload!.uploadUrl, { method: "PUT", body: data, headers: { "content-range": `bytes 0-${data.length - 1}/${data.length}` } });
    expect(put.status).toBe(200);
    await client.files.commitVersionFiles({ name: version!.name });
    const [file] = (await client.files.listVersionFiles({ version: { case: "name", value: version!.name } })).files;
    const got = Buffer.from(await (await fetch(file!.downloadUrl)).arrayBuffer());
    expect(got.equals(data)).toBe(true);
    let streamed = 0;
    for await (const m of client.files.readFile({ version: { case: "name", value: version!.name }, path: "w.bin" })) streamed += m.data.length;
    expect(streamed).toBe(data.length);
    // A job: an export, queued and run by this server.
    await client.exports.createExport({ parent: version!.name, format: ExportFormat.TAR });

    // The counts are the server's once it has logged each call's end.
    await until(() => server!.output.some((l) => l.includes('"rpc":"modelreg.v1.FileService/ReadFile"')), "ReadFile's access-log line");
    const text = await scrape(metricsUrl);
    const model = { grpc_type: "unary", grpc_service: "modelreg.v1.ModelService" };
    expect(sample(text, "grpc_server_handled_total", { ...model, grpc_method: "CreateModel", grpc_code: "OK" })).toBe(1);
    expect(sample(text, "grpc_server_handled_total", { ...model, grpc_method: "GetModel", grpc_code: "OK" })).toBe(3);
    expect(sample(text, "grpc_server_handled_total", { ...model, grpc_method: "GetModel", grpc_code: "NotFound" })).toBe(1);
    expect(sample(text, "grpc_server_started_total", { ...model, grpc_method: "GetModel" })).toBe(4);
    expect(sample(text, "grpc_server_handling_seconds_count", { ...model, grpc_method: "GetModel" })).toBe(4);
    expect(sample(text, "grpc_server_handling_seconds_bucket", { ...model, grpc_method: "GetModel", le: "+Inf" })).toBe(4);
    expect(sample(text, "grpc_server_handling_seconds_bucket", { ...model, grpc_method: "GetModel", le: "300" })).toBe(4);
    expect(sample(text, "grpc_server_handling_seconds_bucket", { ...model, grpc_method: "GetModel", le: "0.001" })).toBeGreaterThanOrEqual(0);
    expect(sample(text, "grpc_server_handled_total", { grpc_type: "server_stream", grpc_method: "ReadFile", grpc_code: "OK" })).toBe(1);

    expect(sample(text, "modelreg_http_received_bytes_total", { route: "upload" })).toBe(data.length);
    expect(sample(text, "modelreg_http_sent_bytes_total", { route: "download" })).toBe(data.length);
    expect(sample(text, "modelreg_http_requests_total", { route: "upload", code: "ok" })).toBe(1);
    expect(sample(text, "modelreg_http_requests_total", { route: "download", code: "ok" })).toBe(1);

    // Jobs: every state of each kind this server runs is listed; the export is in one of them.
    const exports = ["queued", "running", "succeeded", "failed", "cancelled"].map((state) => sample(text, "modelreg_jobs", { kind: "export", state }));
    expect(exports.every((n) => n !== undefined)).toBe(true);
    expect(exports.reduce((a, b) => a! + b!, 0)).toBe(1);
    expect(sample(text, "modelreg_jobs", { kind: "gc", state: "queued" })).toBeDefined();

    expect(sample(text, "modelreg_db_up")).toBe(1);
    if (backend === "postgres") {
      expect(sample(text, "modelreg_db_pool_size")).toBe(4);
      await poolHeldAndFreed(client, db!.url!, metricsUrl);
    } else {
      expect(sample(text, "modelreg_db_pool_size")).toBe(1);
      expect(sample(text, "modelreg_db_pool_in_use")).toBeUndefined();
    }
    expect(sample(text, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(sample(text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);

    // The listener serves nothing else, and needs no key.
    expect((await fetch(metricsUrl.replace("/metrics", "/"))).status).toBe(404);
  });
});

/** Scrapes until `done` holds of the text; fails after a bound that only catches a hang. */
async function scrapeUntil(metricsUrl: string, done: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await scrape(metricsUrl);
    if (done(text)) return text;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last scrape:\n${text.split("\n").filter((l) => l.startsWith("modelreg_db_")).join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The pool gauges follow the pool: while the test holds the models table
 * locked, 6 GetModel calls on a pool of 4 hold every connection (in use 4)
 * and leave at least 2 waiting; once the lock goes, the calls finish and
 * both gauges return to 0.
 */
async function poolHeldAndFreed(client: ReturnType<typeof createRegistryClient>, url: string, metricsUrl: string): Promise<void> {
  const pool = (text: string) => ({ inUse: sample(text, "modelreg_db_pool_in_use"), waiting: sample(text, "modelreg_db_pool_waiting") });
  await scrapeUntil(metricsUrl, (t) => pool(t).inUse === 0 && pool(t).waiting === 0, "an idle pool");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    let calls: Promise<unknown>[] = [];
    await sql.begin(async (tx) => {
      await tx`LOCK TABLE models IN ACCESS EXCLUSIVE MODE`;
      calls = Array.from({ length: 6 }, () => client.models.getModel({ name: "workspaces/default/models/metered" }));
      // Waiting: at least the 2 calls past the pool's 4 (background work may wait too).
      await scrapeUntil(metricsUrl, (t) => pool(t).inUse === 4 && pool(t).waiting! >= 2, "every connection in use and calls waiting");
    });
    // The lock is gone with the transaction: every call is answered.
    expect((await Promise.all(calls)).length).toBe(6);
    await scrapeUntil(metricsUrl, (t) => pool(t).inUse === 0 && pool(t).waiting === 0, "the pool to be idle again");
  } finally {
    await sql.end();
  }
}
