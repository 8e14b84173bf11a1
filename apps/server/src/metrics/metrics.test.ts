// The metrics of two apps in one process stay apart (a registry each), an
// RPC counts once when it ends with its code, and the metrics listener
// serves the text format on /metrics only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { startTestServer, type TestServer } from "../testing/test-app.js";
import { createLogger } from "../logger.js";
import { serveMetrics } from "./metrics-server.js";
import { grpcCodeName } from "./rpc-metrics.js";

describe("metrics", () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestServer("pglite"), startTestServer("pglite")]);
  }, 60_000);
  afterAll(async () => Promise.all([a?.close(), b?.close()]));

  const handled = async (t: TestServer, method: string, code: string) =>
    (await t.app.metrics.registry.getSingleMetric("grpc_server_handled_total")!.get()).values.find(
      (v) => v.labels.grpc_method === method && v.labels.grpc_code === code,
    )?.value;

  it("keeps each app's counts in its own registry", async () => {
    await a.client.models.createModel({ parent: "workspaces/default", modelId: "only-in-a" });
    const err = ConnectError.from(await b.client.models.getModel({ name: "workspaces/default/models/only-in-a" }).catch((e: unknown) => e));
    expect(err.code).toBe(Code.NotFound);
    expect([await handled(a, "CreateModel", "OK"), await handled(b, "CreateModel", "OK")]).toEqual([1, undefined]);
    expect([await handled(a, "GetModel", "NotFound"), await handled(b, "GetModel", "NotFound")]).toEqual([undefined, 1]);
  });

  it("serves the text format on /metrics, with the process metrics, and nothing else", async () => {
    const server = await serveMetrics(a.app.metrics, { port: 0, host: "127.0.0.1", logger: createLogger("silent") });
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const text = await res.text();
      expect(text).toContain('grpc_server_handled_total{grpc_type="unary",grpc_service="modelreg.v1.ModelService",grpc_method="CreateModel",grpc_code="OK"} 1');
      expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(text).toMatch(/^modelreg_jobs\{kind="export",state="queued"\} \d+$/m);
      expect((await fetch(server.url.replace("/metrics", "/other"))).status).toBe(404);
      expect((await fetch(server.url, { method: "POST" })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it("names codes as gRPC's own metrics do", () => {
    expect(["ok", "not_found", "canceled", "resource_exhausted", "deadline_exceeded"].map(grpcCodeName)).toEqual([
      "OK",
      "NotFound",
      "Canceled",
      "ResourceExhausted",
      "DeadlineExceeded",
    ]);
  });
});
