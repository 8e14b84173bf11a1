// One server process, every protocol: Connect over HTTP/1.1 and HTTP/2,
// gRPC, gRPC-Web, plain JSON over fetch, and the network-level race test.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Code, ConnectError, createRegistryClient, errorDetails } from "@modelreg/sdk";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { auditRecorder } from "./support/audit-recorder.js";
import { startServer, type ServerProcess } from "./support/server.js";

describeEachDatabase("protocols", (backend) => {
  let server: ServerProcess;
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  const recorder = auditRecorder();
  beforeAll(async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    server = await startServer({ databaseUrl: db?.url });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  const variants = [
    { label: "connect over HTTP/1.1", protocol: "connect", httpVersion: "1.1" },
    { label: "connect over HTTP/2", protocol: "connect", httpVersion: "2" },
    { label: "gRPC", protocol: "grpc", httpVersion: "2" },
    { label: "gRPC-Web over HTTP/1.1", protocol: "grpc-web", httpVersion: "1.1" },
  ] as const;

  for (const v of variants) {
    it(`serves the catalog over ${v.label}`, async () => {
      const client = createRegistryClient({ baseUrl: server.url, protocol: v.protocol, httpVersion: v.httpVersion, interceptors: [recorder.interceptor] });
      const id = `m-${v.protocol}-${v.httpVersion.replace(".", "")}`;
      const { model } = await client.models.createModel({ parent: "workspaces/default", modelId: id, model: { description: v.label } });
      expect(model!.name).toBe(`workspaces/default/models/${id}`);
      const v1 = await client.versions.createVersion({ parent: model!.name, version: { labels: { via: v.protocol } } });
      expect(v1.version!.version).toBe("1.0.0");
      const byShort = await client.versions.getVersion({ ref: { case: "name", value: client.versionName(`${id}:1.0.0`) } });
      expect(byShort.version!.uid).toBe(v1.version!.uid);
      try {
        await client.versions.getVersion({ ref: { case: "name", value: client.versionName(`${id}:9.0.0`) } });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ConnectError);
        expect((e as ConnectError).code).toBe(Code.NotFound);
      }
    });
  }

  it("answers plain JSON POSTs (curl-style) with codes and no internals", async () => {
    const ok = await fetch(`${server.url}/modelreg.v1.ModelService/ListModels`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${process.env.MODELREG_ACCESS_KEY}` },
      body: JSON.stringify({ parent: "workspaces/default", pageSize: 2 }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { models: unknown[] }).models).toHaveLength(2);

    const bad = await fetch(`${server.url}/modelreg.v1.ModelService/CreateModel`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${process.env.MODELREG_ACCESS_KEY}` },
      body: JSON.stringify({ parent: "workspaces/default", modelId: "9 lives" }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { code: string; message: string; details: unknown[] };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(/^model_id: "9 lives" is not a valid model name/);
    expect(JSON.stringify(body)).not.toMatch(/insert into|select |at file:|\.ts:\d+/i);

    const broken = await fetch(`${server.url}/modelreg.v1.ModelService/CreateModel`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${process.env.MODELREG_ACCESS_KEY}` },
      body: "{not json",
    });
    expect(broken.status).toBe(400);
  });

  it("gives 32 parallel auto-numbered CreateVersion calls 32 distinct versions, no errors", async () => {
    const client = createRegistryClient({ baseUrl: server.url, protocol: "grpc", interceptors: [recorder.interceptor] });
    const parent = (await client.models.createModel({ parent: "workspaces/default", modelId: "race" })).model!.name;
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => client.versions.createVersion({ parent })));
    const failures = results.filter((r) => r.status === "rejected").map((r) => errorDetails((r as PromiseRejectedResult).reason).message);
    expect(failures).toEqual([]);
    const versions = results.map((r) => (r as PromiseFulfilledResult<{ version?: { version: string } }>).value.version!.version);
    expect(new Set(versions).size).toBe(32);
    const listed: string[] = [];
    for await (const v of client.listAllVersions("race", { pageSize: 7 })) listed.push(v.version);
    expect(listed).toHaveLength(32);
    expect(listed[0]).toBe("1.0.31");
    expect(listed.at(-1)).toBe("1.0.0");
  });

  it("has an audit event for every mutating call this suite made, with its outcome", async () => {
    expect(recorder.calls.length).toBeGreaterThan(40);
    const admin = createRegistryClient({ baseUrl: server.url });
    const seen = new Map<string, { method: string; code: string }>();
    for await (const e of admin.listAllAuditEvents({ parent: "workspaces/-", pageSize: 500 })) seen.set(e.requestId, e);
    for (const call of recorder.calls) {
      const event = seen.get(call.requestId);
      expect(event, `${call.method} ${call.requestId}`).toBeDefined();
      expect(event!.method).toBe(call.method);
      expect(event!.code === "ok").toBe(call.ok);
    }
  });
});
