// Unary RPCs over gRPC, answered without Connect's stream pipeline.
//
// Connect-ES serves every gRPC call, unary ones too, through its streaming
// pipeline: about ten async generators per call (split, decompress, parse,
// invoke, serialize, compress, join, catch), each suspended across the
// handler's wait for the database. Under load those objects outlive two
// young-generation collections and reach the old generation: 28-30 KB per
// GetVersion over gRPC against 3.5 KB over the Connect protocol, whose unary
// handler reads the body, calls and answers (issue 17). That is two to
// three times the full collections per call.
//
// This handler does what Connect's unary Connect-protocol handler does, in
// gRPC's framing, with Connect's own pieces: the handler context, timeout
// and compression negotiation, envelope decompression, the method's
// (de)serializers with their size limits, the interceptors
// (invokeUnaryImplementation), and the trailer status. A request whose body
// is not exactly one envelope of at most readMaxBytes goes through Connect's
// own transforms instead, so every framing error is Connect's, word for word;
// grpc-unary.test.ts answers a set of requests with both handlers and
// compares the bytes.
//
// Measured on GetVersion at 64 in flight over gRPC, same run: 7.3 KB per
// call reached the old generation instead of 29.2, 8.1 full collections per
// 10,000 calls instead of 23.6, and the server's CPU per call fell from 798
// to 404 us (a bare Connect server: 521).
//
// These pieces are Connect's private exports ("internal code that does not
// follow semantic versioning"); the server pins @connectrpc/connect to one
// version, as Connect asks of code that uses them.
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type ConnectRouterOptions, createHandlerContext, createMethodImplSpec, createServiceImplSpec } from "@connectrpc/connect";
import {
  assertByteStreamRequest,
  compressionNegotiate,
  contentTypeMatcher,
  createAsyncIterable,
  createMethodSerializationLookup,
  createMethodUrl,
  createUniversalMethodHandler,
  encodeEnvelope,
  envelopeCompress,
  envelopeDecompress,
  invokeUnaryImplementation,
  pipe,
  transformDecompressEnvelope,
  transformParseEnvelope,
  transformSplitEnvelope,
  type Compression,
  type UniversalHandler,
  type ProtocolHandlerFactory,
  type Serialization,
  type UniversalServerRequest,
  type UniversalServerResponse,
  uResponseMethodNotAllowed,
  uResponseOk,
  uResponseUnsupportedMediaType,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import { createHandlerFactory as connectFactory } from "@connectrpc/connect/protocol-connect";
import {
  contentTypeJson,
  contentTypeProto,
  contentTypeRegExp,
  grpcStatusOk,
  headerAcceptEncoding,
  headerContentType,
  headerEncoding,
  headerGrpcStatus,
  headerTimeout,
  parseContentType,
  parseTimeout,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import { createHandlerFactory as grpcWebFactory } from "@connectrpc/connect/protocol-grpc-web";
import { oneEnvelope, readBody } from "./read-body.js";

type MethodImplSpec = ReturnType<typeof createMethodImplSpec>;
type UnarySpec = Extract<MethodImplSpec, { kind: "unary" }>;

/**
 * `router`, with each unary method registered through it served over gRPC
 * by the handler below, and over gRPC-Web and Connect by Connect's own, as
 * Connect's router would (the same options, merged the same way).
 * Streaming methods go to `router` unchanged.
 */
export function withGrpcUnary(router: ConnectRouter, routerOptions: ConnectRouterOptions = {}): ConnectRouter {
  const base = { ...routerOptions, ...validateUniversalHandlerOptions(routerOptions) };
  const add = (spec: MethodImplSpec, options: ConnectRouterOptions | undefined, stock: () => void) => {
    const flags = options ?? routerOptions;
    if (spec.kind !== "unary" || flags.grpc === false) return stock();
    const opt = options ? { ...validateUniversalHandlerOptions(base), ...options } : base;
    const protocols: ProtocolHandlerFactory[] = [Object.assign((s: MethodImplSpec) => grpcUnaryHandler(opt, s as UnarySpec), { protocolName: "grpc" })];
    if (flags.grpcWeb !== false) protocols.push(grpcWebFactory(opt));
    if (flags.connect !== false) protocols.push(connectFactory(opt));
    router.handlers.push(createUniversalMethodHandler(spec, protocols));
  };
  const wrapped: ConnectRouter = {
    handlers: router.handlers,
    service(service, impl, options) {
      for (const spec of Object.values(createServiceImplSpec(service, impl).methods))
        add(spec, options, () => router.rpc(spec.method as never, spec.impl as never, options));
      return wrapped;
    },
    rpc(method, impl, options) {
      add(createMethodImplSpec(method, impl as never), options, () => router.rpc(method, impl, options));
      return wrapped;
    },
  };
  return wrapped;
}

type ValidOptions = ReturnType<typeof validateUniversalHandlerOptions>;

/** The gRPC handler of one unary method (see the file's head). */
function grpcUnaryHandler(opt: ValidOptions, spec: UnarySpec): UniversalHandler {
  const serialization = createMethodSerializationLookup(spec.method, opt.binaryOptions, opt.jsonOptions, opt);
  const handle = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    assertByteStreamRequest(req);
    const type = parseContentType(req.header.get(headerContentType));
    if (type === undefined) return uResponseUnsupportedMediaType;
    if (req.method !== "POST") return uResponseMethodNotAllowed;
    const timeout = parseTimeout(req.header.get(headerTimeout), opt.maxTimeoutMs);
    const context = createHandlerContext({
      ...spec,
      service: spec.method.parent,
      requestMethod: req.method,
      protocolName: "grpc",
      timeoutMs: timeout.timeoutMs,
      shutdownSignal: opt.shutdownSignal,
      requestSignal: req.signal,
      requestHeader: req.header,
      url: req.url,
      responseHeader: { [headerContentType]: type.binary ? contentTypeProto : contentTypeJson },
      responseTrailer: { [headerGrpcStatus]: grpcStatusOk },
      contextValues: req.contextValues,
    });
    const compression = compressionNegotiate(opt.acceptCompression, req.header.get(headerEncoding), req.header.get(headerAcceptEncoding), headerAcceptEncoding);
    if (compression.response) context.responseHeader.set(headerEncoding, compression.response.name);
    let body: Uint8Array | undefined;
    let error: unknown;
    try {
      // Raised as the trailer status, in Connect's order.
      if (compression.error) throw compression.error;
      if (timeout.error) throw timeout.error;
      const input = await readInput(req.body, opt.readMaxBytes, compression.request, serialization.getI(type.binary));
      const output = await invokeUnaryImplementation(spec, context, input, opt.interceptors);
      const env = await envelopeCompress({ flags: 0, data: serialization.getO(type.binary).serialize(output) }, compression.response, opt.compressMinBytes);
      body = encodeEnvelope(env.flags, env.data);
    } catch (e) {
      error = e;
    }
    // As Connect's pipeline ends a call: its context aborted (with the error, if any), the status in the trailer.
    context.abort(error);
    if (error instanceof ConnectError) setTrailerStatus(context.responseTrailer, error);
    else if (error !== undefined) setTrailerStatus(context.responseTrailer, new ConnectError("internal error", Code.Internal, undefined, undefined, error));
    return { ...uResponseOk, body: createAsyncIterable(body ? [body] : []), header: context.responseHeader, trailer: context.responseTrailer };
  };
  return Object.assign(handle, {
    protocolNames: ["grpc"],
    allowedMethods: ["POST"],
    supportedContentType: contentTypeMatcher(contentTypeRegExp),
    requestPath: createMethodUrl("/", spec.method),
    service: spec.method.parent,
    method: spec.method as DescMethodUnary,
  });
}

/**
 * The request's one message. The body is read up to one envelope of the
 * largest size allowed; when it holds exactly one envelope within that
 * size, its message is decompressed and parsed here. Anything else is read
 * by Connect's own transforms, which raise Connect's errors as its gRPC
 * handler does.
 */
async function readInput<T>(body: AsyncIterable<Uint8Array>, readMaxBytes: number, compression: Compression | null, parser: Serialization<T>): Promise<T> {
  const read = await readBody(body, readMaxBytes + 5);
  const envelope = read.over === undefined ? oneEnvelope(read.bytes) : undefined;
  if (envelope && envelope.data.byteLength <= readMaxBytes) return parser.parse((await envelopeDecompress(envelope, compression, readMaxBytes)).data);
  const all = read.over ?? createAsyncIterable([read.bytes]);
  return single(pipe(all, transformSplitEnvelope(readMaxBytes), transformDecompressEnvelope(compression, readMaxBytes), transformParseEnvelope(parser)));
}

/** The one message of `input`, with the errors Connect raises for none or more than one. */
async function single<T>(input: AsyncIterable<T>): Promise<T> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) throw new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented);
  const second = await it.next();
  if (second.done !== true) throw new ConnectError("protocol error: received extra input message for unary method", Code.Unimplemented);
  return first.value;
}
