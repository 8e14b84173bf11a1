// Graceful close for serve(): which connections are open and in what state,
// and close(), which stops accepting, sends GOAWAY to HTTP/2 sessions, closes
// idle HTTP/1.1 keep-alive connections at once and busy ones after their
// responses, and destroys what remains after the grace time.
import type * as http from "node:http";
import type * as http2 from "node:http2";
import type * as net from "node:net";

/** Bookkeeping for graceful close. */
export interface Connections {
  /** Every accepted connection. */
  sockets: Set<net.Socket>;
  /** Accepted but not yet handed over to the HTTP/2 or HTTP/1.1 server. */
  sniffing: Set<net.Socket>;
  sessions: Set<http2.ServerHttp2Session>;
  /** HTTP/1.1 connections and their responses in flight. */
  h1InFlight: Map<net.Socket, Set<http.ServerResponse>>;
  /** Set by the first close(). */
  closing: Promise<void> | undefined;
}

export function createConnections(): Connections {
  return { sockets: new Set(), sniffing: new Set(), sessions: new Set(), h1InFlight: new Map(), closing: undefined };
}

/** Tracks a connection from its accept until it closes. */
export function trackSocket(c: Connections, socket: net.Socket): void {
  c.sockets.add(socket);
  c.sniffing.add(socket);
  socket.once("close", () => {
    c.sockets.delete(socket);
    c.sniffing.delete(socket);
    c.h1InFlight.delete(socket);
  });
}

export function trackSession(c: Connections, session: http2.ServerHttp2Session): void {
  c.sessions.add(session);
  session.once("close", () => c.sessions.delete(session));
}

/** Tracks an HTTP/1.1 response until it closes. */
export function trackResponse(c: Connections, socket: net.Socket, res: http.ServerResponse): void {
  const inFlight = c.h1InFlight.get(socket);
  if (inFlight) {
    inFlight.add(res);
    if (c.closing) res.setHeader("Connection", "close");
    res.once("close", () => {
      inFlight.delete(res);
      // While closing, a connection is closed as soon as it becomes idle.
      if (c.closing && inFlight.size === 0) socket.end();
    });
  }
}

/** What the grace time's end cut: connections still open, HTTP/2 sessions among them, and HTTP/1.1 requests still in flight. */
export interface GraceCut {
  connections: number;
  http2Sessions: number;
  http1Requests: number;
}

/**
 * Server#close(): resolves when every connection is closed; a second call
 * returns the same promise. `onCut` is told what is left when the grace time
 * runs out, just before it is destroyed.
 */
export function closeGracefully(c: Connections, tcp: net.Server, graceMs: number, onCut?: (cut: GraceCut) => void): Promise<void> {
  c.closing ??= new Promise<void>((resolve) => {
    // net.Server#close stops accepting at once; its callback runs after
    // every connection it accepted (handed over or not) has closed.
    const force = setTimeout(() => {
      let http1Requests = 0;
      for (const inFlight of c.h1InFlight.values()) http1Requests += inFlight.size;
      onCut?.({ connections: c.sockets.size, http2Sessions: c.sessions.size, http1Requests });
      for (const session of c.sessions) session.destroy();
      for (const socket of c.sockets) socket.destroy();
    }, graceMs);
    tcp.close(() => {
      clearTimeout(force);
      resolve();
    });
    for (const socket of c.sniffing) socket.destroy();
    // GOAWAY: no new streams; the session closes once open streams end.
    for (const session of c.sessions) session.close();
    for (const [socket, inFlight] of c.h1InFlight) {
      if (inFlight.size === 0) socket.destroy(); // idle keep-alive
      // Busy: tell the client, and close after the response (see trackResponse).
      else for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
    }
  });
  return c.closing;
}
