// Unary RPCs over the Connect protocol: Connect's own unary handler
// (protocol-connect's createUnaryHandler, Connect-ES 2.1.2), line for line,
// on the call context of ./unary-call.ts, whose abort signal is made only
// when read. Its other differences: a POST's URL is not parsed (only a GET
// carries its message in the query), a POST's body must be bytes (Connect
// also takes JSON an adapter parsed itself; ours never does), and the
// answer's body is a WholeBody, which the RPC adapter writes at once. connect-unary.test.ts answers a set
// of requests with this handler and with Connect's, and compares the bytes.
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  assertByteStreamRequest,
  type Compression,
  compressionNegotiate,
  contentTypeMatcher,
  createMethodSerializationLookup,
  createMethodUrl,
  readAllBytes,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
  uResponseMethodNotAllowed,
  uResponseUnsupportedMediaType,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  contentTypeUnaryRegExp,
  errorToJsonBytes,
  headerContentType,
  headerProtocolVersion,
  headerTimeout,
  headerUnaryAcceptEncoding,
  headerUnaryContentLength,
  headerUnaryEncoding,
  parseContentType,
  parseTimeout,
  protocolVersion,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";
import { createUnaryContext, invokeUnary } from "./unary-call.js";
import { WholeBody } from "./whole-body.js";
import type { UnarySpec, ValidOptions } from "./unary-router.js";

/** The Connect handler of one unary method (see the file's head). */
export function connectUnaryHandler(opt: ValidOptions, spec: UnarySpec): UniversalHandler {
  const serialization = createMethodSerializationLookup(spec.method, opt.binaryOptions, opt.jsonOptions, opt);
  const allowsGet = spec.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
  const handle = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const isGet = req.method === "GET";
    if (isGet && !allowsGet) return uResponseMethodNotAllowed;
    const query = isGet ? new URL(req.url).searchParams : undefined;
    const compressionRequested = query ? query.get("compression") : req.header.get(headerUnaryEncoding);
    const type = query ? encodingOfQuery(query.get("encoding")) : parseContentType(req.header.get(headerContentType));
    if (type === undefined || type.stream) return uResponseUnsupportedMediaType;
    const timeout = parseTimeout(req.header.get(headerTimeout), opt.maxTimeoutMs);
    const context = createUnaryContext(spec, req, {
      protocolName: "connect",
      timeoutMs: timeout.timeoutMs,
      shutdownSignal: opt.shutdownSignal,
      responseHeader: new Headers({ [headerContentType]: type.binary ? contentTypeUnaryProto : contentTypeUnaryJson }),
      responseTrailer: new Headers(),
    });
    const compression = compressionNegotiate(opt.acceptCompression, compressionRequested, req.header.get(headerUnaryAcceptEncoding), headerUnaryAcceptEncoding);
    let status = 200;
    let body: Uint8Array;
    try {
      if (opt.requireConnectProtocolHeader) {
        if (query) requireVersionParam(query);
        else requireVersionHeader(req.header);
      }
      // Raised here, to be answered as an error response.
      if (compression.error) throw compression.error;
      if (timeout.error) throw timeout.error;
      const bytes = query ? await messageOfQuery(opt.readMaxBytes, compression.request, query) : await messageOfBody(opt.readMaxBytes, compression.request, req);
      const input = serialization.getI(type.binary).parse(bytes);
      const output = await invokeUnary(spec, context, input, opt.interceptors);
      body = serialization.getO(type.binary).serialize(output as never);
    } catch (e) {
      context.abort(e);
      const error = e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
      status = codeToHttpStatus(error.code);
      context.responseHeader.set(headerContentType, contentTypeUnaryJson);
      error.metadata.forEach((value, key) => {
        context.responseHeader.set(key, value);
      });
      body = errorToJsonBytes(error, opt.jsonOptions);
    }
    context.abort();
    if (compression.response && body.byteLength >= opt.compressMinBytes) {
      body = await compression.response.compress(body);
      context.responseHeader.set(headerUnaryEncoding, compression.response.name);
    }
    const header = trailerMux(context.responseHeader, context.responseTrailer);
    header.set(headerUnaryContentLength, body.byteLength.toString(10));
    return { status, body: new WholeBody(body), header };
  };
  return Object.assign(handle, {
    protocolNames: ["connect"],
    allowedMethods: allowsGet ? ["POST", "GET"] : ["POST"],
    supportedContentType: contentTypeMatcher(contentTypeUnaryRegExp),
    requestPath: createMethodUrl("/", spec.method),
    service: spec.method.parent,
    method: spec.method as DescMethodUnary,
  });
}

/** A GET's `encoding` parameter, as Connect reads it. */
function encodingOfQuery(encoding: string | null): { stream: false; binary: boolean } | undefined {
  if (encoding === "proto") return { stream: false, binary: true };
  if (encoding === "json") return { stream: false, binary: false };
  return undefined;
}

function requireVersionHeader(header: Headers): void {
  const v = header.get(headerProtocolVersion);
  if (v === null) throw new ConnectError(`missing required header: set ${headerProtocolVersion} to "${protocolVersion}"`, Code.InvalidArgument);
  if (v !== protocolVersion) throw new ConnectError(`${headerProtocolVersion} must be "${protocolVersion}": got "${v}"`, Code.InvalidArgument);
}

function requireVersionParam(query: URLSearchParams): void {
  const v = query.get("connect");
  if (v === null) throw new ConnectError(`missing required parameter: set connect to "v${protocolVersion}"`, Code.InvalidArgument);
  if (v !== `v${protocolVersion}`) throw new ConnectError(`connect must be "v${protocolVersion}": got "${v}"`, Code.InvalidArgument);
}

/** A POST's message: its body read whole (our adapter always gives a byte stream), and decompressed. */
async function messageOfBody(readMaxBytes: number, compression: Compression | null, req: UniversalServerRequest): Promise<Uint8Array> {
  assertByteStreamRequest(req);
  const bytes = await readAllBytes(req.body, readMaxBytes, req.header.get(headerUnaryContentLength));
  return compression ? compression.decompress(bytes, readMaxBytes) : bytes;
}

async function messageOfQuery(readMaxBytes: number, compression: Compression | null, query: URLSearchParams): Promise<Uint8Array> {
  const message = query.get("message") ?? "";
  const bytes = query.get("base64") === "1" ? base64Decode(message) : new TextEncoder().encode(message);
  return compression ? compression.decompress(bytes, readMaxBytes) : bytes;
}
