// Request messages that are not valid protobuf binary, on RPCs whose request
// is one message (unary and server-streaming).
//
// Connect parses such a message before any interceptor runs and answers a
// failure as Internal ("parse binary: ..."): the caller is told it is the
// server's fault, and the call never reaches the access log. This layer sits
// around each of those RPC handlers instead: it reads the body (Connect would
// buffer it whole anyway), takes the message out of its framing (a gRPC or
// gRPC-Web envelope, compression) and parses it. A message that does not
// parse fails the body with InvalidArgument, which Connect then answers in
// the caller's protocol, and the call gets its access-log line. A message
// that parses, and anything this layer does not understand (JSON, a framing
// error), goes on to Connect untouched, which reports framing errors itself.
// Client streams parse message by message inside the interceptors; the error
// interceptor maps their parse errors (errors.ts).
import { type DescMethod, fromBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import type { ConnectRouter } from "@connectrpc/connect";
import { type Compression, envelopeDecompress, type UniversalHandler, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import { errorToJsonBytes, parseContentType as connectContentType } from "@connectrpc/connect/protocol-connect";
import { parseContentType as grpcContentType } from "@connectrpc/connect/protocol-grpc";
import { parseContentType as grpcWebContentType } from "@connectrpc/connect/protocol-grpc-web";
import type { AccessLog } from "./access-log.js";
import { peerAddressKey } from "../auth/principal.js";
import { oneEnvelope, readBody } from "../http/read-body.js";
import { malformedMessageError } from "./errors.js";
import { requestIdFromHeader } from "./request-id.js";

export interface MessageCheckOptions {
  /** Where a refused call gets its access-log line. */
  accessLog: Pick<AccessLog, "refused">;
  /** The router's readMaxBytes: larger bodies are left to Connect, which refuses them. */
  readMaxBytes: number;
  /** The compressions the router accepts. */
  compression: Compression[];
}

/** `routes`, with every handler of a one-message request checked as above. */
export function checkRequestMessages(routes: (router: ConnectRouter) => void, options: MessageCheckOptions): (router: ConnectRouter) => void {
  return (router) => {
    const from = router.handlers.length;
    routes(router);
    for (let i = from; i < router.handlers.length; i++) {
      const handler = router.handlers[i]!;
      const kind = handler.method.methodKind;
      if (kind === "unary" || kind === "server_streaming") router.handlers[i] = checked(handler, options);
    }
  };
}

/** How a request carries its message, when it is protobuf binary: in an envelope (gRPC, gRPC-Web) or bare (Connect). */
interface Framing {
  enveloped: boolean;
  encodingHeader: string;
}

function framingOf(req: UniversalServerRequest): Framing | undefined {
  if (req.method !== "POST") return undefined;
  const type = req.header.get("content-type");
  const grpcWeb = grpcWebContentType(type);
  if (grpcWeb) return grpcWeb.binary && !grpcWeb.text ? { enveloped: true, encodingHeader: "grpc-encoding" } : undefined;
  const grpc = grpcContentType(type);
  if (grpc) return grpc.binary ? { enveloped: true, encodingHeader: "grpc-encoding" } : undefined;
  const connect = connectContentType(type);
  return connect?.binary && !connect.stream ? { enveloped: false, encodingHeader: "content-encoding" } : undefined;
}

function checked(handler: UniversalHandler, options: MessageCheckOptions): UniversalHandler {
  const { method } = handler;
  const refuse = (req: UniversalServerRequest, started: number, reason: string) => {
    const requestId = requestIdFromHeader(req.header);
    options.accessLog.refused(method, "invalid_argument", started, { requestId, peer: req.contextValues?.get(peerAddressKey) });
    return malformedMessageError(method.input.typeName, reason, requestId);
  };
  const wrapped = async (req: UniversalServerRequest) => {
    const started = performance.now();
    if (req.method === "GET" && handler.allowedMethods.includes("GET")) {
      const reason = await getQueryProblem(req, method, options);
      if (reason === undefined) return handler(req);
      // A Connect GET: answered here, as Connect answers an error of a unary call.
      const err = refuse(req, started, reason);
      const header = new Headers({ "content-type": "application/json", "x-request-id": err.metadata.get("x-request-id") ?? "" });
      return { status: 400, header, body: (async function* () {
        yield errorToJsonBytes(err, {});
      })() };
    }
    const framing = framingOf(req);
    const body = req.body;
    if (!framing || !isByteStream(body)) return handler(req);
    return handler({ ...req, body: checkedBody(body, req, framing, method, options, (reason) => refuse(req, started, reason)) });
  };
  return Object.assign(wrapped, handler);
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

/** The body, read whole and checked before Connect sees it. */
async function* checkedBody(
  body: AsyncIterable<Uint8Array>,
  req: UniversalServerRequest,
  framing: Framing,
  method: DescMethod,
  options: MessageCheckOptions,
  refuse: (reason: string) => Error,
): AsyncGenerator<Uint8Array> {
  const read = await readBody(body, options.readMaxBytes + 5);
  if (read.over) {
    // Too large: Connect refuses it as it reads.
    yield* read.over;
    return;
  }
  const { bytes } = read;
  const reason = req.signal.aborted ? undefined : await problemOf(bytes, req, framing, method, options);
  if (reason !== undefined) throw refuse(reason);
  yield bytes;
}

/** Why the message in `bytes` does not parse; undefined when it does, or when Connect should judge the framing itself. */
async function problemOf(bytes: Uint8Array, req: UniversalServerRequest, framing: Framing, method: DescMethod, o: MessageCheckOptions): Promise<string | undefined> {
  const encoding = req.header.get(framing.encodingHeader);
  const compression = encoding && encoding !== "identity" ? o.compression.find((c) => c.name === encoding) : undefined;
  if (encoding && encoding !== "identity" && !compression) return undefined;
  let message: Uint8Array;
  try {
    if (framing.enveloped) {
      const envelope = oneEnvelope(bytes);
      if (!envelope) return undefined;
      message = (await envelopeDecompress(envelope, compression ?? null, o.readMaxBytes)).data;
    } else message = compression ? await compression.decompress(bytes, o.readMaxBytes) : bytes;
  } catch {
    return undefined;
  }
  return parseProblem(method, message);
}

/** A Connect GET's message, from the query, checked the same way. */
async function getQueryProblem(req: UniversalServerRequest, method: DescMethod, o: MessageCheckOptions): Promise<string | undefined> {
  const query = new URL(req.url).searchParams;
  if (query.get("encoding") !== "proto" || !query.has("message")) return undefined;
  const compressionName = query.get("compression");
  const compression = compressionName && compressionName !== "identity" ? o.compression.find((c) => c.name === compressionName) : undefined;
  if (compressionName && compressionName !== "identity" && !compression) return undefined;
  let message: Uint8Array;
  try {
    const raw = query.get("message") ?? "";
    message = query.get("base64") === "1" ? base64Decode(raw) : new TextEncoder().encode(raw);
    if (compression) message = await compression.decompress(message, o.readMaxBytes);
  } catch {
    return undefined;
  }
  return parseProblem(method, message);
}

function parseProblem(method: DescMethod, message: Uint8Array): string | undefined {
  try {
    fromBinary(method.input, message, { readUnknownFields: false });
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
