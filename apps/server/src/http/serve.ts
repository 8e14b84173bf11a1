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
// track of connections for close(). With `tls`, the port speaks HTTPS only
// and tls-handover.ts hands each connection over by the protocol its TLS
// handshake chose (ALPN) instead.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { createPeerLimiter, createRefusalLog, type LimitLogger, peerOf } from "./connection-limits.js";
import { closeGracefully, createConnections, trackResponse, trackSession, trackSocket } from "./graceful-close.js";
import { createIdleSessions } from "./idle-sessions.js";
import { sniffAndHandOver } from "./protocol-sniff.js";
import { certificateWarning, type TlsCredentials } from "./tls-config.js";
import { createTlsHandOver } from "./tls-handover.js";
import { createCutQueue, type Req, watchRequestBody } from "./request-deadline.js";

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
  /**
   * A new connection must send its first bytes, and the HTTP/2 preface
   * whole, within this time. Default: headersTimeoutMs.
   */
  sniffTimeoutMs?: number;
  /** An HTTP/1.1 connection with no traffic for this long is closed. Default 120 s. */
  http1IdleTimeoutMs?: number;
  /** An HTTP/2 connection with no open stream for this long gets GOAWAY and closes. Default 120 s. */
  http2IdleTimeoutMs?: number;
  /** Limits against clients that hold the server (see TransportLimits); each has a default. */
  limits?: Partial<TransportLimits>;
  /** Whether a request's body is a stream (an upload) rather than one message; default: none is. */
  isStreamingBody?: (req: Req) => boolean;
  /** Where refused connections and cut requests are summarised. */
  logger?: LimitLogger;
  /** Serve HTTPS with this certificate and key (HTTP/2 and HTTP/1.1 chosen by ALPN); default: cleartext. */
  tls?: TlsCredentials;
}

export interface TransportLimits {
  /** Connections open at once; more are closed as soon as they are accepted. */
  maxConnections: number;
  /** Connections one peer (an IPv4 address or an IPv6 /64) may hold open. */
  maxConnectionsPerPeer: number;
  /** An HTTP/1.1 request's headers must arrive within this, counted from its first byte. */
  headersTimeoutMs: number;
  /** A one-message request body must arrive within this; a streaming body must not pause longer (request-deadline.ts). */
  requestBodyTimeoutMs: number;
  /** Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused. */
  http2MaxConcurrentStreams: number;
  /** Memory one HTTP/2 connection's session may use, in MB; beyond it new streams are refused. */
  http2MaxSessionMemoryMb: number;
}

export const DEFAULT_LIMITS: TransportLimits = {
  maxConnections: 4096,
  maxConnectionsPerPeer: 128,
  headersTimeoutMs: 20_000,
  requestBodyTimeoutMs: 60_000,
  http2MaxConcurrentStreams: 100,
  http2MaxSessionMemoryMb: 10,
};

const REFUSALS = {
  "max-connections": "refused connections: MAX_CONNECTIONS reached",
  "max-connections-per-peer": "refused connections: a peer reached MAX_CONNECTIONS_PER_PEER",
  "request-body-timeout": "cut requests whose body did not arrive within REQUEST_BODY_TIMEOUT_MS",
};

export interface Server {
  /** The port actually bound. */
  readonly port: number;
  /** Base URL for clients, e.g. "http://127.0.0.1:8080" ("https://..." with TLS). */
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
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const refusals = createRefusalLog(options.logger, REFUSALS);
  const isStreamingBody = options.isStreamingBody ?? (() => false);
  const queue = createCutQueue();
  const guarded = (req: Req, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const onCut = () => refusals.note("request-body-timeout", peerOf(req.socket?.remoteAddress));
    watchRequestBody(req, res, { timeoutMs: limits.requestBodyTimeoutMs, streaming: isStreamingBody(req), onCut, queue });
    handler(req, res);
  };

  const h2 = http2.createServer({
    settings: { maxConcurrentStreams: limits.http2MaxConcurrentStreams },
    maxSessionMemory: limits.http2MaxSessionMemoryMb,
  });
  const idle = createIdleSessions(options.http2IdleTimeoutMs ?? 120_000);
  h2.on("request", guarded);
  h2.on("session", (session) => {
    trackSession(conns, session);
    idle.track(session);
  });

  // Node checks headersTimeout (from a request's first byte to the end of its
  // headers) only on servers that listen; this one is handed its connections,
  // so "listening" is what starts that check. No requestTimeout: it would cut
  // long uploads; request-deadline.ts watches bodies instead.
  const h1 = http.createServer({ headersTimeout: limits.headersTimeoutMs, requestTimeout: 0, connectionsCheckingInterval: checkEvery(limits.headersTimeoutMs) });
  h1.emit("listening");
  h1.timeout = options.http1IdleTimeoutMs ?? 120_000; // socket inactivity; the socket is destroyed when it fires
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    trackResponse(conns, req.socket, res);
    guarded(req, res);
  });

  const sniffTimeoutMs = options.sniffTimeoutMs ?? limits.headersTimeoutMs;
  const handOverTls = options.tls ? createTlsHandOver(options.tls, { h2, h1, conns, deadlineMs: sniffTimeoutMs }) : undefined;
  const expiry = options.tls ? certificateWarning(options.tls.cert) : undefined;
  if (expiry) options.logger?.warn({ validFrom: expiry.validFrom, validTo: expiry.validTo }, expiry.message);
  const perPeer = createPeerLimiter(limits.maxConnectionsPerPeer);
  const tcp = net.createServer((socket) => {
    if (!perPeer.admit(socket)) {
      refusals.note("max-connections-per-peer", peerOf(socket.remoteAddress));
      socket.on("error", () => {});
      socket.destroy();
      return;
    }
    trackSocket(conns, socket);
    if (handOverTls) handOverTls(socket);
    else sniffAndHandOver(socket, { h2, h1, conns, sniffTimeoutMs });
  });
  // Over the total, net.Server closes a connection right after accepting it.
  tcp.maxConnections = limits.maxConnections;
  tcp.on("drop", (data?: { remoteAddress?: string }) => refusals.note("max-connections", peerOf(data?.remoteAddress)));

  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(options.port, options.host, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  const port = (tcp.address() as net.AddressInfo).port;
  const close = (graceMs = 10_000): Promise<void> => {
    h1.close(); // stops its headersTimeout check
    idle.stop();
    return closeGracefully(conns, tcp, graceMs, (cut) => options.logger?.warn({ ...cut, graceMs }, "shutdown grace ran out: cutting the calls still in flight"));
  };
  return { port, url: `${options.tls ? "https" : "http"}://${urlHost(options.host)}:${port}`, close };
}

/** How often Node looks for expired headers: often enough that the timeout is kept within a fraction of itself. */
function checkEvery(headersTimeoutMs: number): number {
  return Math.max(100, Math.min(1000, Math.floor(headersTimeoutMs / 4)));
}

function urlHost(host: string | undefined): string {
  if (!host || host === "::") return "localhost";
  if (host === "0.0.0.0") return "127.0.0.1";
  return net.isIPv6(host) ? `[${host}]` : host;
}
