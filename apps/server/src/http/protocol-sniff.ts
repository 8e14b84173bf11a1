// The protocol sniffing of serve() (why it sniffs: see serve.ts): peek at a
// new connection's first bytes; the HTTP/2 connection preface goes to the
// http2 server, anything else to the http server, via
// `emit("connection", socket)` after the peeked bytes are pushed back with
// `unshift`.
import type * as http from "node:http";
import type * as http2 from "node:http2";
import type * as net from "node:net";
import type { Connections } from "./graceful-close.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface HandOverTargets {
  h2: http2.Http2Server;
  h1: http.Server;
  conns: Connections;
  /**
   * A connection must be handed over within this time: a deadline, not an
   * inactivity timeout, so that trickling the HTTP/2 preface a byte at a
   * time does not hold the connection.
   */
  sniffTimeoutMs: number;
}

/** Reads a new connection's first bytes, then hands it to the server that speaks its protocol. */
export function sniffAndHandOver(socket: net.Socket, to: HandOverTargets): void {
  const { h2, h1, conns } = to;
  // Errors (ECONNRESET...) before the hand-over would otherwise crash the
  // process; afterwards the inner servers attach their own handlers too.
  socket.on("error", () => {});
  const deadline = setTimeout(() => socket.destroy(), to.sniffTimeoutMs);
  socket.once("close", () => clearTimeout(deadline));
  socket.once("end", () => conns.sniffing.has(socket) && socket.destroy());

  let peeked: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    peeked = peeked.length ? Buffer.concat([peeked, chunk]) : chunk;
    const n = Math.min(peeked.length, PREFACE.length);
    const isH2 = peeked.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isH2 && n < PREFACE.length) return; // could still be the preface
    socket.off("data", onData);
    clearTimeout(deadline);
    socket.pause();
    socket.unshift(peeked);
    conns.sniffing.delete(socket);
    if (isH2) {
      // Http2Session drains data already buffered on the socket.
      h2.emit("connection", socket);
    } else {
      conns.h1InFlight.set(socket, new Set());
      h1.emit("connection", socket);
      socket.resume(); // replays the unshifted bytes into the HTTP parser
    }
  };
  socket.on("data", onData);
}
