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
// gRPC's framing, with Connect's own pieces: timeout and compression
// negotiation, envelope decompression, the method's (de)serializers with
// their size limits, and the trailer status; the call's context and its run
// through the interceptors are ./unary-call.ts's. A request whose body
// is not exactly one envelope of at most readMaxBytes goes through Connect's
// own transforms instead, so every framing error is Connect's, word for word;
// grpc-unary.test.ts answers a set of requests with both handlers and
// compares the bytes.
//
// Measured on GetVersion at 64 in flight over gRPC, same run: 7.3 KB per
// call reached the old generation instead of 29.2, 8.1 full collections per
// 10,000 calls instead of 23.6, and the server's CPU per call fell from 798
// to 404 us (a bare Connect server: 521).
// (Connect's private exports: see ./unary-router.ts.)
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  assertByteStreamRequest,
  compressionNegotiate,
  contentTypeMatcher,
  createAsyncIterable,
  createMethodSerializationLookup,
  createMethodUrl,
  encodeEnvelope,
  envelopeCompress,
  envelopeDecompress,
  pipe,
  transformDecompressEnvelope,
  transformParseEnvelope,
  transformSplitEnvelope,
  type Compression,
  type UniversalHandler,
  type Serialization,
  type UniversalServerRequest,
  type UniversalServerResponse,
  uResponseMethodNotAllowed,
  uResponseOk,
  uResponseUnsupportedMediaType,
} from "@connectrpc/connect/protocol";
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
import { oneEnvelope, readBody } from "./read-body.js";
import { createUnaryContext, invokeUnary } from "./unary-call.js";
import type { UnarySpec, ValidOptions } from "./unary-router.js";
import { WholeBody } from "./whole-body.js";

/** The gRPC handler of one unary method (see the file's head). */
export function grpcUnaryHandler(opt: ValidOptions, spec: UnarySpec): UniversalHandler {
  const serialization = createMethodSerializationLookup(spec.method, opt.binaryOptions, opt.jsonOptions, opt);
  const handle = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    assertByteStreamRequest(req);
    const type = parseContentType(req.header.get(headerContentType));
    if (type === undefined) return uResponseUnsupportedMediaType;
    if (req.method !== "POST") return uResponseMethodNotAllowed;
    const timeout = parseTimeout(req.header.get(headerTimeout), opt.maxTimeoutMs);
    const context = createUnaryContext(spec, req, {
      protocolName: "grpc",
      timeoutMs: timeout.timeoutMs,
      shutdownSignal: opt.shutdownSignal,
      responseHeader: new Headers({ [headerContentType]: type.binary ? contentTypeProto : contentTypeJson }),
      responseTrailer: new Headers({ [headerGrpcStatus]: grpcStatusOk }),
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
      const output = await invokeUnary(spec, context, input, opt.interceptors);
      const env = await envelopeCompress({ flags: 0, data: serialization.getO(type.binary).serialize(output as never) }, compression.response, opt.compressMinBytes);
      body = encodeEnvelope(env.flags, env.data);
    } catch (e) {
      error = e;
    }
    // As Connect's pipeline ends a call: its context aborted (with the error, if any), the status in the trailer.
    context.abort(error);
    if (error instanceof ConnectError) setTrailerStatus(context.responseTrailer, error);
    else if (error !== undefined) setTrailerStatus(context.responseTrailer, new ConnectError("internal error", Code.Internal, undefined, undefined, error));
    return { ...uResponseOk, body: new WholeBody(body), header: context.responseHeader, trailer: context.responseTrailer };
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
