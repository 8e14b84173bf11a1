// The RPCs on node's HTTP/1.1 and HTTP/2 servers: Connect-ES's router and
// protocol handlers (Connect, gRPC, gRPC-Web: everything a call means on the
// wire), joined to node's request and response by this file instead of
// @connectrpc/connect-node's connectNodeAdapter. Connect documents that join
// as the place for adapters of its own (its Fastify, Express and Next.js
// ones are such files); this one does less per call than connect-node's:
// - the request body is node's request itself, not a second async generator
//   (Connect's, compiled to ES2017 helpers) around node's own iterator;
// - the request's abort signal is only aborted when the client goes away
//   before the answer is out: connect-node aborts it at every request's end,
//   building a DOMException (with its stack trace) per call for no listener;
// - the URL is put together, not parsed and printed (Connect parses it once
//   more itself where it reads the query: Connect GET);
// - a write waits for 'drain' through listeners only when the response's
//   buffer is full, and also ends when the client goes away ('close'), so a
//   server stream whose client left fails its message at once rather than
//   waiting for a 'drain' that never comes (rpc-adapter.test.ts).
// Unary methods over gRPC and the Connect protocol are answered by handlers
// of modelreg's own (./unary-router.ts, which the router given to `routes`
// registers them with); their answer's body, one array of bytes
// (./whole-body.ts), is written at once.
// Measured on GetVersion at 64 in flight (issue 17): a bare Connect server
// spent about 300 us of CPU per call against about 55 for node's http2
// alone answering the same bytes; the same bare server on this adapter
// 7% less than on connect-node's, and it promoted 3.3 KB per call to the
// old generation instead of 4.7 (fewer full collections).
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { constants as h2 } from "node:http2";
import { Code, ConnectError, type ConnectRouter, type ConnectRouterOptions, type ContextValues, createConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { withUnaryHandlers } from "./unary-router.js";
import { WholeBody } from "./whole-body.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface RpcAdapterOptions extends ConnectRouterOptions {
  routes: (router: ConnectRouter) => void;
  /** The context values of a call, from its request (e.g. the peer's address). */
  contextValues?: (req: NodeRequest) => ContextValues;
  /** Told as each streaming RPC starts; the function it returns, once its HTTP exchange ends. */
  streamActivity?: () => () => void;
  /** A handler failed in a way that could not be answered (not a client that went away). */
  onError?: (err: unknown, handler: UniversalHandler) => void;
}

/** The request handler of every RPC path; any other path is answered 404. */
export function rpcAdapter(options: RpcAdapterOptions): (req: NodeRequest, res: NodeResponse) => void {
  const router = createConnectRouter(options);
  options.routes(withUnaryHandlers(router, options));
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
    const url = req.url ?? "";
    const query = url.indexOf("?");
    const handler = paths.get(query < 0 ? url : url.slice(0, query));
    if (!handler) {
      res.writeHead(404);
      res.end();
      return;
    }
    if (options.streamActivity && handler.method.methodKind !== "unary") res.once("close", options.streamActivity());
    const uReq = universalRequest(req, res, options.contextValues?.(req));
    handler(uReq)
      .then((uRes) => writeResponse(uRes, res, uReq.signal))
      .catch((err) => {
        if (ConnectError.from(err).code !== Code.Aborted) options.onError?.(err, handler);
      });
  };
}

function universalRequest(req: NodeRequest, res: NodeResponse, contextValues: ContextValues | undefined): UniversalServerRequest {
  const abort = new AbortController();
  const h2 = "stream" in req;
  // The client went away before the answer was out: the call is cancelled
  // with the reason the stream was reset for (HTTP/2) or the socket's error.
  // (writableEnded: the whole answer was handed to node; a reset stream counts as "finished" too.)
  res.once("close", () => {
    if (!res.writableEnded) abort.abort(h2 ? errorOfResetCode((req as http2.Http2ServerRequest).stream.rstCode) : req.errored ? errorOfNode(req.errored) : undefined);
  });
  if (!h2) req.once("error", (err) => abort.abort(errorOfNode(err)));
  const authority = h2 ? (req as http2.Http2ServerRequest).authority : req.headers.host;
  const scheme = h2 ? (req as http2.Http2ServerRequest).scheme : (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  return {
    httpVersion: req.httpVersion,
    method: req.method ?? "",
    url: `${scheme}://${authority ?? "localhost"}${req.url ?? ""}`,
    header: webHeader(req.headers),
    body: req as AsyncIterable<Uint8Array>,
    signal: abort.signal,
    contextValues,
  };
}

/** node's request headers as fetch Headers, without HTTP/2's pseudo-headers. */
function webHeader(headers: http.IncomingHttpHeaders): Headers {
  const header = new Headers();
  for (const k in headers) {
    if (k.charCodeAt(0) === 58 /* ":" */) continue;
    const v = headers[k];
    if (typeof v === "string") header.append(k, v);
    else if (v !== undefined) for (const e of v) header.append(k, e);
  }
  return header;
}

/** fetch Headers as node's outgoing headers (repeated names as arrays). */
function nodeHeader(header: UniversalServerResponse["header"]): Record<string, string | string[]> | undefined {
  if (header === undefined) return undefined;
  const out: Record<string, string | string[]> = Object.create(null);
  (header instanceof Headers ? header : new Headers(header)).forEach((value, key) => {
    const had = out[key];
    out[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  });
  return out;
}

/** Writes a handler's answer; a write that fails is handed to the handler's body (its stream learns the client went away). */
async function writeResponse(uRes: UniversalServerResponse, res: NodeResponse, signal: AbortSignal): Promise<void> {
  // A body known whole (./whole-body.ts) is written at once, with no iterator to wait on.
  const whole = uRes.body instanceof WholeBody ? uRes.body : undefined;
  const it = whole ? undefined : uRes.body?.[Symbol.asyncIterator]();
  let writing = false;
  try {
    if (whole) {
      res.writeHead(uRes.status, nodeHeader(uRes.header));
      const written = whole.bytes && write(res, whole.bytes, signal);
      if (written) await written;
    } else if (it) {
      let chunk = await it.next();
      // Headers go after the first message is ready, so a handler can still set them.
      res.writeHead(uRes.status, nodeHeader(uRes.header));
      for (; chunk.done !== true; chunk = await it.next()) {
        writing = true;
        await write(res, chunk.value, signal);
        writing = false;
      }
    }
    if (!res.headersSent) res.writeHead(uRes.status, nodeHeader(uRes.header));
    if (uRes.trailer) res.addTrailers(nodeHeader(uRes.trailer)!);
    res.end();
  } catch (err) {
    if (writing) it?.throw?.(err).catch(() => {});
    throw errorOfNode(err);
  } finally {
    it?.return?.().catch(() => {});
  }
}

const clientGone = () => new ConnectError("the client went away", Code.Aborted);

/**
 * One message written. It waits only when the response's buffer is full:
 * until it drains, the write fails, or the client goes away ('close', after
 * which node's HTTP/2 response neither drains nor fails). `signal` is the
 * request's, aborted once the client went away before the answer was out.
 */
function write(res: NodeResponse, chunk: Uint8Array, signal: AbortSignal): Promise<void> | undefined {
  if (signal.aborted) throw clientGone();
  // A failed write reports through its callback, always after write() returned.
  let settle: ((err?: Error | null) => void) | undefined;
  const flushed = (res as http.ServerResponse).write(chunk, (err) => {
    if (err) settle?.(err);
  });
  if (flushed) return undefined;
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null) => {
      settle = undefined;
      res.off("drain", onDrain);
      res.off("close", onClose);
      res.off("error", done);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(clientGone());
    settle = done;
    res.on("drain", onDrain);
    res.on("close", onClose);
    res.on("error", done);
  });
}

/** Why an HTTP/2 stream was reset, as Connect (connect-node) reads it; undefined for no error. */
function errorOfResetCode(rstCode: number): ConnectError | undefined {
  const code = RESET_CODES.get(rstCode);
  return code === undefined ? undefined : new ConnectError(`http/2 stream closed with error code 0x${rstCode.toString(16)}`, code);
}

// HTTP/2 error codes (RFC 9113, section 7) and the Connect code of each, as
// connect-node maps them; STREAM_CLOSED and NO_ERROR are not errors of the call.
const RESET_CODES = new Map<number, Code>([
  [h2.NGHTTP2_PROTOCOL_ERROR, Code.Internal],
  [h2.NGHTTP2_INTERNAL_ERROR, Code.Internal],
  [h2.NGHTTP2_FLOW_CONTROL_ERROR, Code.Internal],
  [h2.NGHTTP2_SETTINGS_TIMEOUT, Code.Internal],
  [h2.NGHTTP2_FRAME_SIZE_ERROR, Code.Internal],
  [h2.NGHTTP2_REFUSED_STREAM, Code.Unavailable],
  [h2.NGHTTP2_CANCEL, Code.Canceled],
  [h2.NGHTTP2_COMPRESSION_ERROR, Code.Internal],
  [h2.NGHTTP2_CONNECT_ERROR, Code.Internal],
  [h2.NGHTTP2_ENHANCE_YOUR_CALM, Code.ResourceExhausted],
  [h2.NGHTTP2_INADEQUATE_SECURITY, Code.PermissionDenied],
  [h2.NGHTTP2_HTTP_1_1_REQUIRED, Code.PermissionDenied],
]);

/** A node error as a ConnectError: a client that went away is Aborted, as connect-node has it. */
function errorOfNode(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  const codes = new Set<string>();
  for (let e: unknown = reason, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.add(code);
  }
  const gone = ["ERR_STREAM_WRITE_AFTER_END", "ERR_STREAM_DESTROYED", "ERR_HTTP2_INVALID_STREAM", "ECONNRESET"].some((c) => codes.has(c));
  const err = ConnectError.from(reason, gone ? Code.Aborted : Code.Internal);
  if (err !== reason) err.cause = reason;
  return err;
}
