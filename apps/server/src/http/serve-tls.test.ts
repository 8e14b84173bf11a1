// serve() with TLS: HTTP/2 and HTTP/1.1 on one port chosen by ALPN, every
// protocol, and the protections of cleartext (header deadline, a trickled
// handshake cut, graceful close) kept.
import * as http2 from "node:http2";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import { ConnectError, createClient, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { createHealthService, Health, ServingStatus } from "../grpc/health.js";
import { makeTestCert, opensslMissing, type TestCert } from "../testing/tls-cert.js";
import { type Server, serve } from "./serve.js";

const HOST = "127.0.0.1";
const skip = opensslMissing();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe.skipIf(skip !== "")(`serve() with TLS${skip}`, () => {
  let cert: TestCert;
  const certOnce = () => (cert ??= makeTestCert());
  afterAll(() => cert?.remove());

  /** Health, with a Check that waits for `gate` when given. */
  const routes = (gate?: () => Promise<void>) => {
    const health = createHealthService();
    return (router: ConnectRouter) =>
      router.service(Health, {
        ...health.impl,
        async check(req, ctx) {
          await gate?.();
          return health.impl.check(req, ctx);
        },
      });
  };
  const start = async (options: Partial<Parameters<typeof serve>[1]> = {}, gate?: () => Promise<void>) => {
    const { cert: c, key } = certOnce();
    const server = await serve(connectNodeAdapter({ routes: routes(gate) }), { port: 0, host: HOST, tls: { cert: c, key }, ...options });
    onTestFinished(() => server.close(100));
    return server;
  };

  /** A Connect JSON POST over HTTPS/1.1, with the given ALPN offer (none: no ALPN at all). */
  const postHttps1 = (server: Server, alpn?: string[]) =>
    new Promise<{ status: number; body: string; protocol: string | false | null; encrypted: boolean }>((resolve, reject) => {
      const req = https.request(
        `${server.url}/grpc.health.v1.Health/Check`,
        { method: "POST", headers: { "content-type": "application/json" }, ca: certOnce().cert, agent: false, ...(alpn ? { ALPNProtocols: alpn } : {}) },
        (res) => {
          let body = "";
          const socket = res.socket as tls.TLSSocket;
          res.setEncoding("utf8").on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, protocol: socket.alpnProtocol, encrypted: socket.encrypted }));
        },
      );
      req.on("error", reject);
      req.end("{}");
    });

  it("serves HTTP/2 and HTTP/1.1 by ALPN on one port, over Connect, gRPC and gRPC-Web", async () => {
    const server = await start();
    expect(server.url).toBe(`https://${HOST}:${server.port}`);
    const ca = certOnce().cert;
    const transports = [
      createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca } }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "2", nodeOptions: { ca } }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca } }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca } }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "2", nodeOptions: { ca } }),
    ];
    for (const transport of transports) expect((await createClient(Health, transport).check({})).status).toBe(ServingStatus.SERVING);

    // HTTP/1.1 chosen by ALPN, and by a client that offers no ALPN at all.
    expect(await postHttps1(server, ["http/1.1"])).toMatchObject({ status: 200, body: '{"status":"SERVING"}', protocol: "http/1.1", encrypted: true });
    expect(await postHttps1(server)).toMatchObject({ status: 200, protocol: false });
    // HTTP/2 chosen by ALPN.
    const session = http2.connect(server.url, { ca });
    onTestFinished(() => session.destroy());
    const status = await new Promise<unknown>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/json" });
      stream.on("response", (h) => resolve(h[":status"]));
      stream.on("error", reject);
      stream.end("{}");
    });
    expect(status).toBe(200);
    expect(session.alpnProtocol).toBe("h2");
  });

  it("refuses cleartext and a client that does not trust the certificate, and keeps serving", async () => {
    const server = await start();
    const plain = await createClient(Health, createGrpcTransport({ baseUrl: `http://${HOST}:${server.port}` })).check({}).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(ConnectError); // the TLS server drops what is not a ClientHello
    const untrusted = await createClient(Health, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" })).check({}).catch((e: unknown) => e);
    expect(String(ConnectError.from(untrusted).message)).toMatch(/self[- ]signed/i);
    expect((await postHttps1(server, ["http/1.1"])).status).toBe(200);
  });

  it("cuts a handshake that trickles in, and HTTP/1.1 headers that trickle in after it (408)", async () => {
    const server = await start({ limits: { headersTimeoutMs: 300 } });
    // A TLS ClientHello sent a byte every 100 ms: cut at the deadline, with nothing answered.
    const hello = await new Promise<Buffer>((resolve) => {
      // The first bytes a real client sends, captured through a pair of sockets.
      const grab = net.createServer((s) => s.once("data", (d: Buffer) => {
        resolve(d);
        s.destroy();
      }));
      grab.listen(0, HOST, () => {
        const c = tls.connect({ port: (grab.address() as net.AddressInfo).port, host: HOST, servername: "localhost" });
        c.on("error", () => grab.close());
      });
    });
    const raw = net.connect(server.port, HOST);
    raw.on("error", () => {});
    let got = 0;
    raw.on("data", (d: Buffer) => (got += d.length));
    let closed = false;
    raw.on("close", () => (closed = true));
    for (const byte of hello) {
      if (closed) break;
      raw.write(Buffer.of(byte));
      await sleep(100);
    }
    expect(closed).toBe(true); // closed long before the ClientHello was whole
    expect(got).toBe(0);

    // After the handshake, HTTP/1.1 headers a byte at a time: 408 and closed.
    const socket = tls.connect({ port: server.port, host: HOST, ca: certOnce().cert, servername: "localhost", ALPNProtocols: ["http/1.1"] });
    let text = "";
    socket.setEncoding("latin1").on("data", (d: string) => (text += d));
    const done = new Promise((r) => socket.on("close", r));
    await new Promise((r) => socket.once("secureConnect", r));
    void (async () => {
      for (const ch of `POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(500)}`) {
        if (socket.destroyed) return;
        socket.write(ch);
        await sleep(20);
      }
    })();
    await done;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("close() lets in-flight HTTP/2 and HTTP/1.1 calls finish, then refuses; idle connections close at once", async () => {
    let started = 0;
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const server = await start({}, async () => {
      started++;
      await gate;
    });
    const ca = certOnce().cert;
    const grpc = createClient(Health, createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca } }));
    const h2Call = grpc.check({});
    const h1Call = postHttps1(server, ["http/1.1"]);
    while (started < 2) await sleep(5);
    // An idle HTTPS/1.1 keep-alive connection and a silent TCP connection: closed right away.
    const silent = net.connect(server.port, HOST);
    silent.on("error", () => {});
    await new Promise((r) => silent.on("connect", r));
    const silentClosed = new Promise((r) => silent.on("close", r));

    const closed = server.close(600_000); // far beyond the test's timeout: close() must end when the calls do
    await silentClosed;
    expect(await new Promise((r) => net.connect(server.port, HOST).on("error", (e: NodeJS.ErrnoException) => r(e.code)))).toBe("ECONNREFUSED");
    release();
    expect((await h2Call).status).toBe(ServingStatus.SERVING);
    expect((await h1Call).status).toBe(200);
    await closed;
  });
});
