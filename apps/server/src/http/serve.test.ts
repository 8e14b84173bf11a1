import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Duplex } from "node:stream";
import { Code, ConnectError, createClient, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { describe, expect, it, onTestFinished } from "vitest";
import { createHealthService, Health, ServingStatus } from "../grpc/health.js";
import { serve, type Server } from "./serve.js";

const HOST = "127.0.0.1";

async function start(routes: (router: ConnectRouter) => void, graceMs = 1000) {
  const server = await serve(connectNodeAdapter({ routes }), { port: 0, host: HOST });
  onTestFinished(() => server.close(graceMs));
  return server;
}

/** Health, with a Check that can be made slow or held open. */
function healthRoutes(checkDelay: () => Promise<void> = async () => {}) {
  const health = createHealthService();
  return (router: ConnectRouter) =>
    router.service(Health, {
      ...health.impl,
      async check(req, ctx) {
        await checkDelay();
        return health.impl.check(req, ctx);
      },
    });
}

/** A POST of Connect JSON over plain HTTP/1.1, as curl would send it. */
function postHttp1(server: Server, agent?: http.Agent) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(
      `${server.url}/grpc.health.v1.Health/Check`,
      { method: "POST", headers: { "content-type": "application/json" }, agent },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

const connectRefused = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = net.connect(port, HOST);
    socket.on("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("serve", () => {
  it("binds port 0 and serves HTTP/2 and HTTP/1.1 on the same port", async () => {
    const server = await start(healthRoutes());
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://${HOST}:${server.port}`);

    // h2c prior knowledge (gRPC, Connect) and HTTP/1.1 (Connect, gRPC-Web, plain curl-style POST).
    const transports = [
      createGrpcTransport({ baseUrl: server.url }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "2" }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    ];
    for (const transport of transports) {
      expect((await createClient(Health, transport).check({})).status).toBe(ServingStatus.SERVING);
    }
    const res = await postHttp1(server);
    expect(res).toMatchObject({ status: 200, body: '{"status":"SERVING"}' });
  });

  it("sniffs correctly when the first bytes arrive in pieces", async () => {
    const server = await start(healthRoutes());

    // HTTP/1.1 starting with "P", the first byte of the HTTP/2 preface.
    const raw = net.connect(server.port, HOST);
    let text = "";
    raw.setEncoding("utf8").on("data", (c: string) => (text += c));
    raw.write("P");
    await sleep(30);
    raw.write("OST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n");
    await sleep(30);
    raw.end("Content-Length: 2\r\nConnection: close\r\n\r\n{}");
    await new Promise((r) => raw.on("close", r));
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(text).toContain('{"status":"SERVING"}');

    // HTTP/2 whose connection preface is split over two TCP writes.
    const socket = net.connect(server.port, HOST);
    let first = true;
    const splitting = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        if (!first) return void socket.write(chunk, cb);
        first = false;
        socket.write(chunk.subarray(0, 5));
        setTimeout(() => socket.write(chunk.subarray(5), cb), 30);
      },
      final(cb) {
        socket.end(cb);
      },
    });
    socket.on("data", (d) => splitting.push(d));
    socket.on("end", () => splitting.push(null));
    const session = http2.connect(server.url, { createConnection: () => splitting });
    const status = await new Promise<unknown>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/json" });
      stream.on("response", (h) => resolve(h[":status"]));
      stream.on("error", reject);
      stream.end("{}");
    });
    session.close();
    expect(status).toBe(200);
  });

  it("closes an HTTP/1.1 connection that starts a request and goes silent", async () => {
    const server = await serve(connectNodeAdapter({ routes: healthRoutes() }), { port: 0, host: HOST, http1IdleTimeoutMs: 200 });
    onTestFinished(() => server.close(100));
    const raw = net.connect(server.port, HOST);
    raw.on("error", () => {});
    raw.write("POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\n"); // headers never finish
    // Closed by the server (the suite's timeout catches a server that never does).
    await new Promise((r) => raw.on("close", r));
  });

  // Why serve() sniffs: a canary that fails if a future Node learns h2c + HTTP/1.1.
  it("(Node itself: allowHTTP1 does not serve HTTP/1.1 on cleartext)", async () => {
    const h2 = http2.createServer({ allowHTTP1: true } as http2.ServerOptions, (_req, res) => res.end("ok"));
    h2.on("sessionError", () => {}); // "Received bad client magic byte string"
    await new Promise<void>((r) => h2.listen(0, HOST, r));
    const port = (h2.address() as net.AddressInfo).port;
    const err = await new Promise<unknown>((resolve) => {
      http
        .get({ host: HOST, port }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
        .on("error", resolve);
    });
    h2.close();
    expect(err).toMatchObject({ code: "HPE_INVALID_CONSTANT" }); // got HTTP/2 frames back
  });

  it("rejects when the port is taken", async () => {
    const server = await start(healthRoutes());
    await expect(serve(() => {}, { port: server.port, host: HOST })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });

  describe("close()", () => {
    it("lets in-flight HTTP/2 and HTTP/1.1 calls finish and refuses new connections", async () => {
      let started = 0;
      const server = await serve(
        connectNodeAdapter({ routes: healthRoutes(async () => {
          started++;
          await sleep(300);
        }) }),
        { port: 0, host: HOST },
      );
      const grpc = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
      const grpcCall = grpc.check({});
      const http1Call = postHttp1(server);
      while (started < 2) await sleep(5);

      // A grace far beyond the test's timeout: close() must end when the calls do, not when it runs out.
      const closed = server.close(600_000);
      expect(await connectRefused(server.port)).toBe("ECONNREFUSED");

      expect((await grpcCall).status).toBe(ServingStatus.SERVING);
      const res = await http1Call;
      expect(res.status).toBe(200);
      expect(res.headers.connection).toBe("close"); // told to go away
      // The HTTP/2 session got GOAWAY: a new call needs a new connection, which is refused.
      const err = await grpc.check({}).catch((e: unknown) => e);
      expect(ConnectError.from(err).code).toBe(Code.Unavailable);

      await closed;
    });

    it("closes idle keep-alive and silent connections right away", async () => {
      const server = await serve(connectNodeAdapter({ routes: healthRoutes() }), { port: 0, host: HOST });
      const agent = new http.Agent({ keepAlive: true });
      expect((await postHttp1(server, agent)).status).toBe(200); // leaves an idle keep-alive socket
      const h2 = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
      await h2.check({}); // leaves an idle HTTP/2 session
      const silent = net.connect(server.port, HOST); // never sends a byte
      await new Promise((r) => silent.on("connect", r));
      const silentClosed = new Promise((r) => silent.on("close", r));

      // Nothing in flight: close() ends at once, not after this grace (far beyond the test's timeout).
      await server.close(600_000);
      await silentClosed;
      agent.destroy();
    });

    it("destroys what is still open after graceMs", async () => {
      const never = new Promise<void>(() => {});
      let started = false;
      const server = await serve(
        connectNodeAdapter({ routes: healthRoutes(async () => {
          started = true;
          await never;
        }) }),
        { port: 0, host: HOST },
      );
      const call = createClient(Health, createGrpcTransport({ baseUrl: server.url })).check({}).catch((e: unknown) => e);
      while (!started) await sleep(5);
      const t0 = Date.now();
      await server.close(200);
      // Not before the grace ran out (timers may fire a little early, never much); a hang is the suite's timeout.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
      expect(await call).toBeInstanceOf(ConnectError);
    });

    it("is idempotent", async () => {
      const server = await serve(() => {}, { port: 0, host: HOST });
      const a = server.close();
      expect(server.close()).toBe(a);
      await a;
    });
  });
});
