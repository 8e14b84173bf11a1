// serve(): one TCP port speaking both HTTP/2 cleartext (h2c with prior
// knowledge, what gRPC clients and `buf curl --http2-prior-knowledge` use) and
// HTTP/1.1 (Connect over curl, gRPC-Web from browsers).
//
// Why not `http2.createServer({ allowHTTP1: true })`? On cleartext it does not
// work: Node only falls back to HTTP/1 when TLS ALPN negotiated "http/1.1"
// (lib/internal/http2/core.js, connectionListener checks
// `socket.alpnProtocol`). A plain socket is always treated as HTTP/2, so an
// HTTP/1.1 client gets a SETTINGS/GOAWAY frame back ("Received HTTP/0.9" in
// curl; the server logs "Received bad client magic byte string"); verified on
// Node 20.20. So we sniff instead: a net.Server peeks at the first bytes of
// each connection; the HTTP/2 connection preface goes to an http2 server,
// anything else to an http server, via `emit("connection", socket)` after the
// peeked bytes are pushed back with `unshift`. Neither inner server listens.
// (HTTP/1.1 `Upgrade: h2c` is not supported; nobody in our stack uses it.)
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";

/** Accepts both request/response flavours, e.g. connectNodeAdapter(...). */
export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface ServeOptions {
  /** TCP port; 0 picks a free one (see `Server.port`). */
  port: number;
  /** Interface to bind; default: all interfaces. */
  host?: string;
  /** A connection must send its first bytes within this time. Default 30 s. */
  sniffTimeoutMs?: number;
  /**
   * An HTTP/1.1 connection with no traffic for this long is closed. Default
   * 120 s. (The inner http server never listens, so Node's headersTimeout and
   * requestTimeout checks do not run; this inactivity timeout is what stops
   * a client that opens a request and goes silent.)
   */
  http1IdleTimeoutMs?: number;
}

export interface Server {
  /** The port actually bound. */
  readonly port: number;
  /** Base URL for clients, e.g. "http://127.0.0.1:8080". */
  readonly url: string;
  /**
   * Graceful shutdown: stop accepting connections, send GOAWAY to HTTP/2
   * sessions, close idle HTTP/1.1 keep-alive connections, let in-flight
   * requests finish; after `graceMs` (default 10 s) destroy what remains.
   * Resolves when every connection is closed. Calling it again returns the
   * same promise.
   */
  close(graceMs?: number): Promise<void>;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export async function serve(handler: RequestHandler, options: ServeOptions): Promise<Server> {
  const sniffTimeoutMs = options.sniffTimeoutMs ?? 30_000;
  let closing: Promise<void> | undefined;

  // Bookkeeping for graceful close.
  const sockets = new Set<net.Socket>(); // every accepted connection
  const sniffing = new Set<net.Socket>(); // not yet handed over
  const sessions = new Set<http2.ServerHttp2Session>();
  const h1InFlight = new Map<net.Socket, Set<http.ServerResponse>>();

  const h2 = http2.createServer();
  h2.on("request", handler);
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const h1 = http.createServer();
  h1.timeout = options.http1IdleTimeoutMs ?? 120_000; // socket inactivity; the socket is destroyed when it fires
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    const inFlight = h1InFlight.get(socket);
    if (inFlight) {
      inFlight.add(res);
      if (closing) res.setHeader("Connection", "close");
      res.once("close", () => {
        inFlight.delete(res);
        // While closing, a connection is closed as soon as it becomes idle.
        if (closing && inFlight.size === 0) socket.end();
      });
    }
    handler(req, res);
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    sniffing.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      sniffing.delete(socket);
      h1InFlight.delete(socket);
    });
    // Errors (ECONNRESET...) before the hand-over would otherwise crash the
    // process; afterwards the inner servers attach their own handlers too.
    socket.on("error", () => {});
    socket.setTimeout(sniffTimeoutMs, () => socket.destroy());
    socket.once("end", () => sniffing.has(socket) && socket.destroy());

    let peeked: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      peeked = peeked.length ? Buffer.concat([peeked, chunk]) : chunk;
      const n = Math.min(peeked.length, PREFACE.length);
      const isH2 = peeked.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && n < PREFACE.length) return; // could still be the preface
      socket.off("data", onData);
      socket.setTimeout(0);
      socket.removeAllListeners("timeout");
      socket.pause();
      socket.unshift(peeked);
      sniffing.delete(socket);
      if (isH2) {
        // Http2Session drains data already buffered on the socket.
        h2.emit("connection", socket);
      } else {
        h1InFlight.set(socket, new Set());
        h1.emit("connection", socket);
        socket.resume(); // replays the unshifted bytes into the HTTP parser
      }
    };
    socket.on("data", onData);
  });

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(options.port, options.host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  const port = (tcp.address() as net.AddressInfo).port;

  const close = (graceMs = 10_000): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      // net.Server#close stops accepting at once; its callback runs after
      // every connection it accepted (handed over or not) has closed.
      const force = setTimeout(() => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      tcp.close(() => {
        clearTimeout(force);
        resolve();
      });
      for (const socket of sniffing) socket.destroy();
      // GOAWAY: no new streams; the session closes once open streams end.
      for (const session of sessions) session.close();
      for (const [socket, inFlight] of h1InFlight) {
        if (inFlight.size === 0) socket.destroy(); // idle keep-alive
        // Busy: tell the client, and close after the response (see above).
        else for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
      }
    }));

  return { port, url: `http://${urlHost(options.host)}:${port}`, close };
}

function urlHost(host: string | undefined): string {
  if (!host || host === "::") return "localhost";
  if (host === "0.0.0.0") return "127.0.0.1";
  return net.isIPv6(host) ? `[${host}]` : host;
}
