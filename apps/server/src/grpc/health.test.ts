import { Code, ConnectError, createClient, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { rpcAdapter } from "../http/rpc-adapter.js";
import { describe, expect, it, onTestFinished } from "vitest";
import { serve } from "../http/serve.js";
import { createHealthService, Health, ServingStatus } from "./health.js";

// A real server on port 0 for each test; both transports talk to the same port.
async function start(routes: (router: ConnectRouter) => void) {
  const server = await serve(rpcAdapter({ routes }), { port: 0, host: "127.0.0.1" });
  onTestFinished(() => server.close(1000));
  return {
    server,
    grpc: createGrpcTransport({ baseUrl: server.url }), // HTTP/2, h2c prior knowledge
    connect: createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
  };
}

async function expectCode(promise: Promise<unknown>, code: Code) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).code).toBe(code);
}

describe("grpc.health.v1.Health", () => {
  it("Check answers over gRPC (HTTP/2) and Connect (HTTP/1.1) on one port", async () => {
    const health = createHealthService();
    health.setServing("modelreg.v1.ModelService", false);
    const { grpc, connect } = await start((r) => health.register(r));
    for (const transport of [grpc, connect] satisfies Transport[]) {
      const client = createClient(Health, transport);
      expect((await client.check({})).status).toBe(ServingStatus.SERVING);
      expect((await client.check({ service: "modelreg.v1.ModelService" })).status).toBe(ServingStatus.NOT_SERVING);
      await expectCode(client.check({ service: "nope.Service" }), Code.NotFound);
    }
  });

  it("List returns every known status", async () => {
    const health = createHealthService();
    health.setServing("a.A", true);
    health.setStatus("b.B", ServingStatus.NOT_SERVING);
    const { grpc } = await start((r) => health.register(r));
    const { statuses } = await createClient(Health, grpc).list({});
    expect(Object.fromEntries(Object.entries(statuses).map(([k, v]) => [k, v.status]))).toEqual({
      "": ServingStatus.SERVING,
      "a.A": ServingStatus.SERVING,
      "b.B": ServingStatus.NOT_SERVING,
    });
  });

  it("Watch sends the current status, each change, and ends on shutdown()", async () => {
    const health = createHealthService();
    const { grpc } = await start((r) => health.register(r));
    const client = createClient(Health, grpc);

    const svc = client.watch({ service: "x.Svc" })[Symbol.asyncIterator]();
    const all = client.watch({ service: "" })[Symbol.asyncIterator]();
    expect((await svc.next()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN); // unknown: no error
    expect((await all.next()).value?.status).toBe(ServingStatus.SERVING);

    health.setServing("x.Svc", true);
    expect((await svc.next()).value?.status).toBe(ServingStatus.SERVING);
    health.setServing("x.Svc", true); // no change, no message
    health.setServing("x.Svc", false);
    expect((await svc.next()).value?.status).toBe(ServingStatus.NOT_SERVING);

    health.shutdown();
    expect((await all.next()).value?.status).toBe(ServingStatus.NOT_SERVING);
    expect((await all.next()).done).toBe(true);
    expect((await svc.next()).done).toBe(true); // already NOT_SERVING: just ends

    // After shutdown: changes are ignored, Check says NOT_SERVING.
    health.setServing("", true);
    expect((await client.check({})).status).toBe(ServingStatus.NOT_SERVING);
  });

  it("Watch ends on the server when the client cancels", async () => {
    const health = createHealthService();
    let serverDone!: () => void;
    const finished = new Promise<void>((resolve) => (serverDone = resolve));
    const { grpc } = await start((r) =>
      r.service(Health, {
        ...health.impl,
        // Wrap watch to observe the end of the server-side generator.
        async *watch(req, ctx) {
          try {
            yield* health.impl.watch(req, ctx);
          } finally {
            serverDone();
          }
        },
      }),
    );
    const abort = new AbortController();
    const stream = createClient(Health, grpc).watch({}, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVING);
    abort.abort();
    await expectCode(stream.next(), Code.Canceled);
    await finished; // would time out if the generator kept waiting
  });
});
