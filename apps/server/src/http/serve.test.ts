import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Duplex } from "node:stream";
import { Code, ConnectError, createClient, type ConnectRouter } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { rpcAdapter } from "./rpc-adapter.js";
import { describe, expect, it, onTestFinished } from "vitest";
import { createHealthService, Health, ServingStatus } from "../grpc/health.js";
import { serve, type Server } from "./serve.js";

const HOST = "127.0.0.1";

async function start(routes: (router: ConnectRouter) => void, graceMs = 1000) {
  const server = await serve(rpcAdapter({ routes }), { port: 0, host: HOST });
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
    const server = await serve(rpcAdapter({ routes: healthRoutes() }), { port: 0, host: HOST, http1IdleTimeoutMs: 200 });
    onTestFinished(() => server.close(100));
    const raw = net.connect(server.port, HOST);
    raw.on("error", () => {});
    raw.write("POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\n"); // headers never finish
    // Closed by the server (the suite's timeout catches a server that never does).
    await new Promise((r) => raw.on("close", r));
  });

  describe("limits", () => {
    /** A connection from `localAddress` that sends `text` one byte per `everyMs` until it is closed; resolves what it received. */
    const trickle = (server: Server, text: string, everyMs: number, localAddress = "127.0.0.1") =>
      new Promise<string>((resolve) => {
        const socket = net.connect({ port: server.port, host: HOST, localAddress });
        let got = "";
        let closed = false;
        socket.on("error", () => {});
        socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
        socket.on("close", () => {
          closed = true;
          resolve(got);
        });
        void (async () => {
          for (const byte of text) {
            if (closed) return;
            socket.write(byte);
            await sleep(everyMs);
          }
        })();
      });

    it("answers 408 and closes an HTTP/1.1 connection whose headers trickle in, and closes one trickling the HTTP/2 preface", async () => {
      const server = await serve(rpcAdapter({ routes: healthRoutes() }), { port: 0, host: HOST, limits: { headersTimeoutMs: 300 } });
      onTestFinished(() => server.close(100));
      const headers = `POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(1000)}`;
      const [h1, h2] = await Promise.all([trickle(server, headers, 20), trickle(server, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 100)]);
      expect(h1).toMatch(/^HTTP\/1\.1 408 /);
      expect(h2).toBe("");
    });

    it("closes connections of a peer beyond maxConnectionsPerPeer at once; other peers are served", async () => {
      const server = await serve(rpcAdapter({ routes: healthRoutes() }), { port: 0, host: HOST, limits: { maxConnectionsPerPeer: 2 } });
      onTestFinished(() => server.close(100));
      const held = [net.connect({ port: server.port, host: HOST, localAddress: "127.0.0.2" }), net.connect({ port: server.port, host: HOST, localAddress: "127.0.0.2" })];
      onTestFinished(() => {
        for (const s of held) s.destroy();
      });
      await Promise.all(held.map((s) => new Promise((r) => s.on("connect", r))));
      const third = net.connect({ port: server.port, host: HOST, localAddress: "127.0.0.2" });
      third.on("error", () => {});
      await new Promise((r) => third.on("close", r)); // closed by the server (a hang is the suite's timeout)
      expect((await postHttp1(server)).status).toBe(200); // 127.0.0.1 is another peer
    });

    it("sends GOAWAY to an HTTP/2 connection with no open stream for http2IdleTimeoutMs, not to one with a stream open", async () => {
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      const server = await serve(
        async (req, res) => {
          if (req.url === "/hold") await held;
          res.end("done");
        },
        { port: 0, host: HOST, http2IdleTimeoutMs: 200 },
      );
      onTestFinished(() => server.close(100));
      const idle = http2.connect(server.url);
      const busy = http2.connect(server.url);
      onTestFinished(() => {
        idle.destroy();
        busy.destroy();
      });
      const idleGoaway = new Promise((r) => idle.once("goaway", r));
      let busyGoaway = false;
      busy.once("goaway", () => (busyGoaway = true));
      const stream = busy.request({ ":path": "/hold" });
      let body = "";
      stream.setEncoding("utf8").on("data", (d: string) => (body += d));
      const ended = new Promise((r) => stream.on("end", r));
      await idleGoaway; // a hang is the suite's timeout
      expect(busyGoaway).toBe(false);
      release();
      await ended;
      expect(body).toBe("done");
    });

    it("cuts a one-message body that never finishes (HTTP/2: RST_STREAM CANCEL), but not a streaming body that keeps sending", async () => {
      const server = await serve(
        (req, res) => {
          // Reads the body, then answers with its size.
          let size = 0;
          req.on("data", (c: Buffer) => (size += c.length));
          req.on("end", () => res.end(String(size)));
        },
        { port: 0, host: HOST, limits: { requestBodyTimeoutMs: 1000 }, isStreamingBody: (req) => req.url === "/stream" },
      );
      onTestFinished(() => server.close(100));
      const session = http2.connect(server.url);
      onTestFinished(() => session.destroy());
      const send = (path: string, chunks: number, end: boolean) =>
        new Promise<{ code: number; body: string }>((resolve) => {
          const stream = session.request({ ":method": "POST", ":path": path });
          let body = "";
          stream.setEncoding("utf8").on("data", (d: string) => (body += d));
          stream.on("error", () => {});
          stream.on("close", () => resolve({ code: stream.rstCode ?? 0, body }));
          void (async () => {
            for (let i = 0; i < chunks && !stream.destroyed; i++) {
              stream.write("x");
              await sleep(50);
            }
            if (end) stream.end();
          })();
        });
      // 40 bytes 50 ms apart: twice the timeout in all, a twentieth of it between bytes.
      const [stalled, streamed] = await Promise.all([send("/unary", 1, false), send("/stream", 40, true)]);
      expect(stalled.code).toBe(http2.constants.NGHTTP2_CANCEL);
      expect(streamed).toEqual({ code: http2.constants.NGHTTP2_NO_ERROR, body: "40" });
    });
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
        rpcAdapter({ routes: healthRoutes(async () => {
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
      const server = await serve(rpcAdapter({ routes: healthRoutes() }), { port: 0, host: HOST });
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
        rpcAdapter({ routes: healthRoutes(async () => {
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
