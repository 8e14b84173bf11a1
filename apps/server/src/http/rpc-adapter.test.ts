// The RPC adapter with clients that go away: over raw HTTP/2, so the test
// decides exactly when the stream is reset and how much the client reads.
import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { FileService, ReadFileRequestSchema } from "@modelreg/proto";
import { expect, it, onTestFinished } from "vitest";
import { HealthCheckRequestSchema } from "@modelreg/proto/health/v1/health_pb";
import { Health } from "../grpc/health.js";
import { rpcAdapter } from "./rpc-adapter.js";
import { serve } from "./serve.js";

async function start(routes: (router: ConnectRouter) => void) {
  const server = await serve(rpcAdapter({ routes }), { port: 0, host: "127.0.0.1" });
  onTestFinished(() => server.close(1000));
  return server;
}

/** A gRPC request of one message on a new HTTP/2 connection; the client reads nothing unless told. */
function grpcCall(url: string, path: string, message: Uint8Array, settings: http2.Settings = {}) {
  const session = http2.connect(url, { settings });
  onTestFinished(() => session.destroy());
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
  stream.on("error", () => {}); // the reset is the test's own doing
  const envelope = new Uint8Array(5 + message.byteLength);
  new DataView(envelope.buffer).setUint32(1, message.byteLength);
  envelope.set(message, 5);
  stream.end(envelope);
  return stream;
}

function latch<T = void>() {
  let open!: (value: T) => void;
  const opened = new Promise<T>((resolve) => (open = resolve));
  return { open, opened };
}

it("ends a server stream whose client went away while a message waited for the client's window", async () => {
  const ended = latch<unknown>();
  const server = await start((router) =>
    router.service(FileService, {
      async *readFile(_req, ctx) {
        try {
          for (;;) yield { data: new Uint8Array(256 * 1024) };
        } finally {
          ended.open(ctx.signal.reason);
        }
      },
    }),
  );
  // A window of 0 bytes: the first message can never be sent, so its write waits for a 'drain' that never comes.
  const stream = grpcCall(server.url, "/modelreg.v1.FileService/ReadFile", toBinary(ReadFileRequestSchema, create(ReadFileRequestSchema, {})), { initialWindowSize: 0 });
  // Headers go out once the first message is ready (they take no window).
  await new Promise((resolve) => stream.once("response", resolve));
  stream.close(http2.constants.NGHTTP2_CANCEL);
  const reason = await ended.opened;
  expect(reason).toBeInstanceOf(ConnectError);
  expect((reason as ConnectError).code).toBe(Code.Canceled);
});

it("aborts a unary call's signal, as cancelled, when its client resets the stream before the answer", async () => {
  const started = latch();
  const aborted = latch<unknown>();
  const server = await start((router) =>
    router.service(Health, {
      check(_req, ctx) {
        started.open();
        return new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => {
            aborted.open(ctx.signal.reason);
            reject(ctx.signal.reason);
          }),
        );
      },
    }),
  );
  const stream = grpcCall(server.url, "/grpc.health.v1.Health/Check", toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, {})));
  await started.opened;
  stream.close(http2.constants.NGHTTP2_CANCEL);
  const reason = await aborted.opened;
  expect(reason).toBeInstanceOf(ConnectError);
  expect((reason as ConnectError).code).toBe(Code.Canceled);
});

it("answers 404 to a path that names no RPC, and a query does not hide a method's path", async () => {
  const server = await start((router) => router.service(Health, { check: () => ({ status: 1 }) }));
  const missing = await fetch(`${server.url}/grpc.health.v1.Health/Nope`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  expect(missing.status).toBe(404);
  const found = await fetch(`${server.url}/grpc.health.v1.Health/Check?x=1`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  expect(found.status).toBe(200);
  expect(await found.json()).toEqual({ status: "SERVING" });
});

it("tells streamActivity of each streaming call, from its start until its exchange ends, and of no unary call", async () => {
  const events: string[] = [];
  const inStream = latch();
  const release = latch();
  const closed = latch();
  const server = await serve(
    rpcAdapter({
      routes: (router) => {
        router.service(Health, { check: () => ({ status: 1 }) });
        router.service(FileService, {
          async *readFile() {
            inStream.open();
            await release.opened;
            yield { data: Uint8Array.of(1) };
          },
        });
      },
      streamActivity: () => {
        events.push("start");
        return () => {
          events.push("end");
          closed.open();
        };
      },
    }),
    { port: 0, host: "127.0.0.1" },
  );
  onTestFinished(() => server.close(1000));
  const unary = await fetch(`${server.url}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  expect(unary.status).toBe(200);
  expect(events).toEqual([]);
  const stream = grpcCall(server.url, "/modelreg.v1.FileService/ReadFile", toBinary(ReadFileRequestSchema, create(ReadFileRequestSchema, {})));
  await inStream.opened;
  expect(events).toEqual(["start"]);
  release.open();
  stream.resume();
  await closed.opened;
  expect(events).toEqual(["start", "end"]);
});
