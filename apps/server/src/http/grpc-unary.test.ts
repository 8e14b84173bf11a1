// The unary gRPC handler answers every request as Connect's own gRPC handler
// does: the same requests go to both, built by the same router options with
// the same implementation and interceptor, and their answers (status,
// headers, body bytes, trailers) and what the implementation saw of its
// context must be equal. Malformed framing, compression, timeouts and size
// limits included: those the handler leaves to Connect's transforms.
import { gzipSync } from "node:zlib";
import { create, toJsonString } from "@bufbuild/protobuf";
import type { ConnectRouterOptions } from "@connectrpc/connect";
import { GetModelRequestSchema } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { answer, getModelHandler, getModelMessage as message, type Seen, type UnaryRequest } from "../testing/unary-handlers.js";
import { RPC_COMPRESSION } from "./compression.js";

function envelope(data: Uint8Array, flags = 0, length = data.byteLength): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  new DataView(out.buffer).setUint32(1, length);
  out[0] = flags;
  out.set(data, 5);
  return out;
}

const grpc = { "content-type": "application/grpc", te: "trailers" };
const bytes = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

const cases: [string, UnaryRequest][] = [
  ["one message", { header: { ...grpc, "x-test": "h" }, chunks: [envelope(message("m1"))] }],
  ["a client already gone", { header: grpc, chunks: [envelope(message("m1"))], aborted: true }],
  ["the signal read during the call", { header: grpc, chunks: [envelope(message("signal"))] }],
  ["the signal read during the call of a client already gone", { header: grpc, chunks: [envelope(message("signal"))], aborted: true }],
  ["one message, byte by byte", { header: grpc, chunks: [...envelope(message("m1"))].map((b) => Uint8Array.of(b)) }],
  ["+proto content type", { header: { ...grpc, "content-type": "application/grpc+proto" }, chunks: [envelope(message("m1"))] }],
  ["JSON", { header: { ...grpc, "content-type": "application/grpc+json" }, chunks: [envelope(new TextEncoder().encode(toJsonString(GetModelRequestSchema, create(GetModelRequestSchema, { name: "j" }))))] }],
  ["JSON that does not parse", { header: { ...grpc, "content-type": "application/grpc+json" }, chunks: [envelope(new TextEncoder().encode("{nope"))] }],
  ["a ConnectError with details and metadata", { header: grpc, chunks: [envelope(message("connect-error"))] }],
  ["an Error", { header: grpc, chunks: [envelope(message("plain-error"))] }],
  ["a gzip request", { header: { ...grpc, "grpc-encoding": "gzip" }, chunks: [envelope(gzipSync(message("gz")), 1)] }],
  ["a gzip answer", { header: { ...grpc, "grpc-accept-encoding": "gzip" }, chunks: [envelope(message("large"))] }],
  ["a small answer to a client that accepts gzip", { header: { ...grpc, "grpc-accept-encoding": "gzip" }, chunks: [envelope(message("m1"))] }],
  ["a compressed envelope without grpc-encoding", { header: grpc, chunks: [envelope(gzipSync(message("gz")), 1)] }],
  ["an unknown grpc-encoding", { header: { ...grpc, "grpc-encoding": "zstd" }, chunks: [envelope(message("m1"))] }],
  ["gzip that does not inflate", { header: { ...grpc, "grpc-encoding": "gzip" }, chunks: [envelope(Uint8Array.of(1, 2, 3), 1)] }],
  ["a grpc-timeout", { header: { ...grpc, "grpc-timeout": "5S" }, chunks: [envelope(message("m1"))] }],
  ["a bad grpc-timeout", { header: { ...grpc, "grpc-timeout": "soon" }, chunks: [envelope(message("m1"))] }],
  ["no body", { header: grpc, chunks: [] }],
  ["a body shorter than an envelope's head", { header: grpc, chunks: [Uint8Array.of(0, 0)] }],
  ["an envelope cut short", { header: grpc, chunks: [envelope(message("m1")).subarray(0, 7)] }],
  ["two messages", { header: grpc, chunks: [envelope(message("m1")), envelope(message("m2"))] }],
  ["a message then a cut envelope", { header: grpc, chunks: [bytes(envelope(message("m1")), Uint8Array.of(0, 0, 0, 0, 9, 1))] }],
  ["a message that does not parse", { header: grpc, chunks: [envelope(Uint8Array.of(0xff, 0xff, 0xff))] }],
  ["an empty message", { header: grpc, chunks: [envelope(new Uint8Array(0))] }],
  ["an envelope of readMaxBytes (256 in one set of options)", { header: grpc, chunks: [envelope(new Uint8Array(256))] }],
  ["an envelope one byte over", { header: grpc, chunks: [envelope(new Uint8Array(257))] }],
  ["a gzip envelope over readMaxBytes once inflated", { header: { ...grpc, "grpc-encoding": "gzip" }, chunks: [envelope(gzipSync(new Uint8Array(300)), 1)] }],
  ["a body over readMaxBytes in chunks", { header: grpc, chunks: Array.from({ length: 8 }, (_, i) => (i === 0 ? envelope(new Uint8Array(95), 0, 800) : new Uint8Array(100))) }],
  ["an unknown content type", { header: { ...grpc, "content-type": "application/grpc+xml" }, chunks: [envelope(message("m1"))] }],
  ["GET", { method: "GET", header: grpc, chunks: [] }],
];

describe.each([
  ["default options", {}],
  ["gzip and brotli accepted, readMaxBytes 256", { acceptCompression: RPC_COMPRESSION, readMaxBytes: 256 }],
  ["a 1 s maximum timeout", { maxTimeoutMs: 1000 }],
] as [string, ConnectRouterOptions][])("with %s", (_, options) => {
  it.each(cases)("answers %s as Connect's gRPC handler does", async (_name, request) => {
    const seenOurs: Seen[] = [];
    const seenStock: Seen[] = [];
    const [o, s] = [getModelHandler(true, seenOurs, options), getModelHandler(false, seenStock, options)];
    const ours = await answer(o.handler, request);
    o.ended();
    const stock = await answer(s.handler, request);
    s.ended();
    expect(ours).toEqual(stock);
    expect(seenOurs).toEqual(seenStock);
  });
});
