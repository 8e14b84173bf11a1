// Request bodies that never arrive. A client that sends a request's headers
// and then its body slowly, or never finishes it, holds a stream, a handler
// and its buffers for as long as it likes; a few thousand of them hold the
// server. So a request body has a deadline, which depends on what it is:
//
// - a body holding one message (unary and server-streaming RPCs, and any
//   request that is not an upload) must arrive whole within the timeout:
//   its size is bounded (MAX_MESSAGE_BYTES), so a client that has not sent
//   it by then is stalling;
// - a streaming body (client-streaming RPCs such as WriteUpload, and the
//   PUT of the upload route) may take as long as it needs while bytes flow,
//   but is cut after the timeout passes without a byte from the client.
//   Time the server itself spends not reading (a full buffer while it
//   writes to disk) does not count against the client.
//
// Once the response is finished, whatever is left of the body must arrive
// within the timeout too (a refused upload whose client keeps trickling).
// Cutting means: HTTP/1.1 gets a 408 when nothing was answered yet, and the
// connection is closed; HTTP/2 gets RST_STREAM(CANCEL) on that stream only.
import * as http2 from "node:http2";
import type { ConnectRouter } from "@connectrpc/connect";
import { createConnectRouter } from "@connectrpc/connect";
import { UPLOAD_PREFIX } from "./file-urls.js";
import type * as http from "node:http";

export type Req = http.IncomingMessage | http2.Http2ServerRequest;
export type Res = http.ServerResponse | http2.Http2ServerResponse;

const REQUEST_TIMEOUT_408 = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

export interface BodyDeadline {
  timeoutMs: number;
  /** Whether this request's body is a stream (see above). */
  streaming: boolean;
  /** Called once when the request is cut. */
  onCut(req: Req): void;
  /** Where cuts wait their turn (createCutQueue). */
  queue: CutQueue;
}

/**
 * Requests that stalled together expire together: cutting a thousand in one
 * go would hold the event loop, and every other caller with it. The queue
 * cuts a batch per turn of the event loop, and lets I/O in between.
 */
export interface CutQueue {
  push(cut: () => void): void;
}

export function createCutQueue(batch = 50): CutQueue {
  const waiting: (() => void)[] = [];
  let scheduled = false;
  const drain = () => {
    for (const cut of waiting.splice(0, batch)) cut();
    scheduled = waiting.length > 0;
    if (scheduled) setImmediate(drain);
  };
  return {
    push(cut) {
      waiting.push(cut);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
  };
}

/** Watches a request's body from now on; cuts the request when its deadline passes. */
export function watchRequestBody(req: Req, res: Res, d: BodyDeadline): void {
  if (d.timeoutMs <= 0 || bodyReceived(req)) return;
  let stopIdle: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const done = () => {
    clearTimeout(timer);
    stopIdle?.();
  };
  const cut = () => {
    done();
    d.queue.push(() => {
      if (bodyReceived(req)) return;
      d.onCut(req);
      cutRequest(req, res);
    });
  };
  // Not the response's close: an HTTP/1.1 body may go on after the answer.
  req.once("end", done);
  req.once("close", done);
  if (!d.streaming) {
    timer = setTimeout(cut, d.timeoutMs);
    return;
  }
  stopIdle = watchProgress(req, d.timeoutMs, cut);
  res.once("finish", () => {
    if (bodyReceived(req)) return;
    stopIdle?.();
    stopIdle = undefined;
    timer = setTimeout(cut, d.timeoutMs);
  });
}

/** Whether the client has sent the whole body (read by the handler or not). */
function bodyReceived(req: Req): boolean {
  if (!("stream" in req)) return req.complete;
  const stream = req.stream;
  return stream.destroyed || stream.endAfterHeaders || stream.state.remoteClose === 1;
}

/** Calls `cut` when `ms` pass with no byte from the client while the server waits for one; returns a stop function. */
function watchProgress(req: Req, ms: number, cut: () => void): () => void {
  // The server is not reading: the body waits in a buffer, not on the client.
  const serverBehind = () => req.readableLength > 0 || ("stream" in req && req.stream.readableLength > 0);
  // Our own timer, not the stream's setTimeout(): that one is not cleared
  // when a stream is destroyed and keeps it in memory until it fires.
  const bytes = "stream" in req ? bytesArriving(req.stream) : () => req.socket.bytesRead;
  let seen = bytes();
  const check = setInterval(() => {
    const now = bytes();
    if (now !== seen || serverBehind()) seen = now;
    else cut();
  }, ms);
  return () => clearInterval(check);
}

/**
 * Bytes of body that reached an HTTP/2 stream so far. (On HTTP/1.1 the
 * socket's count does: it carries only this request while its body is in
 * flight.) A "data" listener only looks on: it is added together with the
 * request's own, the first time that one is, so the stream starts flowing
 * exactly when it would have anyway.
 */
function bytesArriving(stream: http2.Http2Stream): () => number {
  let seen = 0;
  const count = (chunk: Buffer) => {
    seen += chunk.length;
  };
  const attach = (event: string | symbol, listener: unknown) => {
    if (event !== "data" || listener === count) return;
    stream.off("newListener", attach);
    stream.on("data", count);
  };
  if (stream.listenerCount("data") > 0) stream.on("data", count);
  else stream.on("newListener", attach);
  return () => seen;
}

function cutRequest(req: Req, res: Res): void {
  if ("stream" in req) {
    if (!req.stream.destroyed) req.stream.close(http2.constants.NGHTTP2_CANCEL);
    return;
  }
  // As Node's own request timeout does: a 408 if nothing was answered yet, then close.
  const socket = req.socket;
  if (!res.headersSent && socket.writable) socket.write(REQUEST_TIMEOUT_408);
  socket.destroy();
}

/**
 * Which requests have a streaming body: the client-streaming and bidi RPCs
 * that `routes` registers, and the upload route's PUT.
 */
export function streamingBodies(routes: (router: ConnectRouter) => void): (req: Req) => boolean {
  const router = createConnectRouter();
  routes(router);
  const paths = new Set(
    router.handlers.filter((h) => h.method.methodKind === "client_streaming" || h.method.methodKind === "bidi_streaming").map((h) => h.requestPath),
  );
  return (req) => {
    const path = (req.url ?? "").split("?", 1)[0]!;
    return paths.has(path) || path.startsWith(UPLOAD_PREFIX);
  };
}
