// TLS for serve(): each accepted connection is handed to a tls.Server (which
// never listens itself), and once its handshake is done, to the HTTP/2 or
// the HTTP/1.1 server by the protocol ALPN chose: "h2" to HTTP/2; "http/1.1",
// or no ALPN at all (an old client), to HTTP/1.1. No sniffing: under TLS the
// client says what it speaks. The inner servers are the same as for
// cleartext, so their limits (header timeout, idle sessions, stream limits,
// graceful close) hold for TLS as well.
//
// Node's own http2.createSecureServer({ allowHTTP1: true }) would do the
// ALPN part, but it listens itself and runs its own HTTP/1.1 server, outside
// the connection limits, header deadline and close bookkeeping of serve().
import type * as http from "node:http";
import type * as http2 from "node:http2";
import type * as net from "node:net";
import * as tls from "node:tls";
import type { Connections } from "./graceful-close.js";
import type { TlsCredentials } from "./tls-config.js";

export interface TlsTargets {
  h2: http2.Http2Server;
  h1: http.Server;
  conns: Connections;
  /**
   * A connection must finish its handshake, and an HTTP/2 one send its
   * preface and first SETTINGS, within this time from its accept: a
   * deadline, not an inactivity timeout, so a trickled handshake does not
   * hold the connection.
   */
  deadlineMs: number;
}

/** Returns what serve() calls with each accepted connection instead of sniffing it. */
export function createTlsHandOver(credentials: TlsCredentials, to: TlsTargets): (socket: net.Socket) => void {
  const { h2, h1, conns } = to;
  const server = tls.createServer({ ...credentials, ALPNProtocols: ["h2", "http/1.1"], handshakeTimeout: to.deadlineMs });
  // A failed handshake (a client that does not trust the certificate, a
  // port scanner): tls.Server has destroyed the socket already.
  server.on("tlsClientError", () => {});
  // The accepted sockets under handshake, by their peer's address and port,
  // to find the one a secure connection runs on.
  const handshaking = new Map<string, { raw: net.Socket; deadline: NodeJS.Timeout }>();
  const keyOf = (s: net.Socket) => `${s.remoteAddress}|${s.remotePort}`;

  server.on("secureConnection", (secure: tls.TLSSocket) => {
    const pending = handshaking.get(keyOf(secure));
    if (!pending) return void secure.destroy(); // its connection was closed meanwhile
    handshaking.delete(keyOf(secure));
    conns.sniffing.delete(pending.raw);
    if (secure.alpnProtocol === "h2") {
      // The deadline holds until the client's preface and SETTINGS arrive.
      h2.once("session", (session) => session.once("remoteSettings", () => clearTimeout(pending.deadline)));
      h2.emit("connection", secure);
    } else {
      clearTimeout(pending.deadline);
      conns.h1InFlight.set(secure, new Set());
      secure.once("close", () => conns.h1InFlight.delete(secure));
      h1.emit("connection", secure);
    }
  });

  return (raw) => {
    raw.on("error", () => {});
    const key = keyOf(raw);
    const deadline = setTimeout(() => raw.destroy(), to.deadlineMs);
    handshaking.set(key, { raw, deadline });
    raw.once("close", () => {
      clearTimeout(deadline);
      if (handshaking.get(key)?.raw === raw) handshaking.delete(key);
    });
    server.emit("connection", raw);
  };
}
