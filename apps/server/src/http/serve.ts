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
//
// protocol-sniff.ts does the sniffing and hand-over; graceful-close.ts keeps
// track of connections for close().
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { closeGracefully, createConnections, trackResponse, trackSession, trackSocket } from "./graceful-close.js";
import { sniffAndHandOver } from "./protocol-sniff.js";

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

export async function serve(handler: RequestHandler, options: ServeOptions): Promise<Server> {
  const conns = createConnections();

  const h2 = http2.createServer();
  h2.on("request", handler);
  h2.on("session", (session) => trackSession(conns, session));

  const h1 = http.createServer();
  h1.timeout = options.http1IdleTimeoutMs ?? 120_000; // socket inactivity; the socket is destroyed when it fires
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    trackResponse(conns, req.socket, res);
    handler(req, res);
  });

  const sniffTimeoutMs = options.sniffTimeoutMs ?? 30_000;
  const tcp = net.createServer((socket) => {
    trackSocket(conns, socket);
    sniffAndHandOver(socket, { h2, h1, conns, sniffTimeoutMs });
  });

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(options.port, options.host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  const port = (tcp.address() as net.AddressInfo).port;
  const close = (graceMs = 10_000): Promise<void> => closeGracefully(conns, tcp, graceMs);
  return { port, url: `http://${urlHost(options.host)}:${port}`, close };
}

function urlHost(host: string | undefined): string {
  if (!host || host === "::") return "localhost";
  if (host === "0.0.0.0") return "127.0.0.1";
  return net.isIPv6(host) ? `[${host}]` : host;
}
