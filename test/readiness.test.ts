// Health of a real server process as load balancers and orchestrators see
// it: /healthz and /readyz in plain HTTP (HTTP/1.1 and cleartext HTTP/2) on
// the main port with no key, and the gRPC health service. With PostgreSQL
// behind a proxy that can be cut (@modelreg/db/testing, outage-proxy.ts): /readyz goes
// red with a reason and gRPC health says NOT_SERVING (Check and a Watch
// stream) while the database is gone, and both are green again when it is
// back, in the same process.
import * as http2 from "node:http2";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createEmptyPostgres, databaseTarget, startOutageProxy, throughProxy, type OutageProxy } from "@modelreg/db/testing";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@modelreg/proto/health/v1/health_pb";
import { afterAll, describe, expect, it } from "vitest";
import { metricsUrlOf, sample, scrape } from "./support/metrics.js";
import { startServer, type ServerProcess } from "./support/server.js";
import { eventually } from "./support/until.js";

/** GET over HTTP/2 with prior knowledge (h2c), as a gRPC client's connection would carry it. */
async function getH2(base: string, path: string): Promise<{ status: number; body: string }> {
  const session = http2.connect(base);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ":path": path });
      let status = 0;
      let body = "";
      req.setEncoding("utf8");
      req.on("response", (h) => (status = Number(h[":status"])));
      req.on("data", (c: string) => (body += c));
      req.on("end", () => resolve({ status, body }));
      req.on("error", reject);
    });
  } finally {
    session.close();
  }
}

const readyz = async (base: string) => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};

describe("probes on the embedded database", () => {
  let server: ServerProcess | undefined;
  afterAll(async () => server?.stop());

  it("answer /healthz and /readyz over HTTP/1.1 and HTTP/2 without a key, and gRPC health SERVING", async () => {
    server = await startServer();
    for (const get of [async (p: string) => { const r = await fetch(`${server!.url}${p}`); return { status: r.status, body: await r.text() }; }, (p: string) => getH2(server!.url, p)]) {
      expect(await get("/healthz")).toEqual({ status: 200, body: '{"status":"alive"}\n' });
      expect(await get("/readyz")).toEqual({ status: 200, body: '{"status":"ready"}\n' });
    }
    expect((await fetch(`${server.url}/readyz`, { method: "POST" })).status).toBe(405);
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
    expect((await health.check({ service: "modelreg.v1.ModelService" })).status).toBe(Status.SERVING);
  });
});

const run = process.env.DATABASE_URL ? it : it.skip;

describe("probes around a PostgreSQL outage", () => {
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  let proxy: OutageProxy | undefined;
  let server: ServerProcess | undefined;
  const watching = new AbortController();
  afterAll(async () => {
    watching.abort();
    await server?.stop();
    await proxy?.close();
    await db?.drop();
  });

  run(`go red while the database is gone and green when it is back${process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)"}`, async () => {
    db = await createEmptyPostgres();
    proxy = await startOutageProxy(databaseTarget(db.url));
    server = await startServer({ databaseUrl: throughProxy(db.url, proxy.port), env: { METRICS_PORT: "0" } });
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));

    // A Watch stream, open across the whole outage: every status it is sent.
    const seen: Status[] = [];
    const watch = (async () => {
      try {
        for await (const m of health.watch({ service: "" }, { signal: watching.signal })) seen.push(m.status);
      } catch {
        // ended by the test's abort
      }
    })();
    expect(await readyz(server.url)).toEqual({ status: 200, body: { status: "ready" } });
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);

    await proxy.set("refuse");
    const red = await eventually(() => readyz(server!.url), (r) => r.status === 503, "/readyz to answer 503");
    expect(red.body).toEqual({ status: "not ready", reason: expect.stringMatching(/^the database (is unreachable|could not be reached)/) });
    await eventually(async () => (await health.check({ service: "" })).status, (s) => s === Status.NOT_SERVING, "gRPC health Check NOT_SERVING");
    expect((await health.check({ service: "modelreg.v1.VersionService" })).status).toBe(Status.NOT_SERVING);
    await eventually(async () => seen, (s) => s.includes(Status.NOT_SERVING), "the Watch stream to say NOT_SERVING");
    expect(sample(await scrape(metricsUrlOf(server.output)), "modelreg_db_up")).toBe(0);
    // Alive all along: the process serves.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    await proxy.set("forward");
    await eventually(() => readyz(server!.url), (r) => r.status === 200, "/readyz to answer 200 again");
    await eventually(async () => (await health.check({ service: "" })).status, (s) => s === Status.SERVING, "gRPC health Check SERVING again");
    await eventually(async () => seen, (s) => s.at(-1) === Status.SERVING, "the Watch stream to say SERVING again");
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
    expect(sample(await scrape(metricsUrlOf(server.output)), "modelreg_db_up")).toBe(1);
    // The task notifications' LISTEN, lost with the database, holds again.
    await eventually(async () => server!.output, (o) => o.some((l) => l.includes('"msg":"listening for task notifications again"')), "the LISTEN to hold again");
    // The operator was told, once each way (log lines reach stdout in batches, at most 50 ms late).
    await eventually(async () => server!.output, (o) => o.some((l) => l.includes('"msg":"ready: the database answers again"')), "the line saying ready again");
    expect(server.output.filter((l) => l.includes('"msg":"not ready"'))).toHaveLength(1);
    expect(server.output.filter((l) => l.includes('"msg":"ready: the database answers again"'))).toHaveLength(1);
    watching.abort();
    await watch;
    // And it stops cleanly: nothing it began during the outage holds its shutdown
    // (a step that hangs ends in the watchdog's exit 1 and its "did not finish" line).
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(server.output.filter((l) => l.includes("shutdown did not finish"))).toEqual([]);
    expect(server.output.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });
});
