// The unary Connect-protocol handler answers every request as Connect's own
// does: the same requests go to both, built by the same router options with
// the same implementation and interceptor, and their answers (status,
// headers, body bytes, trailers) and what the implementation saw of its
// context, and how that context's signal ended, must be equal.
import { gzipSync } from "node:zlib";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import type { ConnectRouterOptions } from "@connectrpc/connect";
import { CreateModelRequestSchema, GetModelRequestSchema, ModelService } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { answer, getModelHandler, getModelMessage as message, type Seen, type UnaryRequest } from "../testing/unary-handlers.js";
import { RPC_COMPRESSION } from "./compression.js";

const proto = { "content-type": "application/proto", "connect-protocol-version": "1" };
const json = (name: string) => new TextEncoder().encode(toJsonString(GetModelRequestSchema, create(GetModelRequestSchema, { name })));
const query = (m: Uint8Array, more = "") => `?encoding=proto&base64=1&message=${Buffer.from(m).toString("base64url")}${more}`;

const cases: [string, UnaryRequest][] = [
  ["one message", { header: { ...proto, "x-test": "h" }, chunks: [message("m1")] }],
  ["a client already gone", { header: proto, chunks: [message("m1")], aborted: true }],
  ["the signal read during the call", { header: proto, chunks: [message("signal")] }],
  ["the signal read during the call of a client already gone", { header: proto, chunks: [message("signal")], aborted: true }],
  ["one message, byte by byte", { header: proto, chunks: [...message("m1")].map((b) => Uint8Array.of(b)) }],
  ["no connect-protocol-version", { header: { "content-type": "application/proto" }, chunks: [message("m1")] }],
  ["a wrong connect-protocol-version", { header: { ...proto, "connect-protocol-version": "2" }, chunks: [message("m1")] }],
  ["JSON", { header: { ...proto, "content-type": "application/json" }, chunks: [json("j")] }],
  ["JSON with a charset", { header: { ...proto, "content-type": "application/json; charset=utf-8" }, chunks: [json("j")] }],
  ["JSON that does not parse", { header: { ...proto, "content-type": "application/json" }, chunks: [new TextEncoder().encode("{nope")] }],
  ["a ConnectError with details and metadata", { header: proto, chunks: [message("connect-error")] }],
  ["an Error", { header: proto, chunks: [message("plain-error")] }],
  ["an Error, in JSON", { header: { ...proto, "content-type": "application/json" }, chunks: [json("plain-error")] }],
  ["a gzip request", { header: { ...proto, "content-encoding": "gzip" }, chunks: [gzipSync(message("gz"))] }],
  ["a gzip answer", { header: { ...proto, "accept-encoding": "gzip" }, chunks: [message("large")] }],
  ["a small answer to a client that accepts gzip", { header: { ...proto, "accept-encoding": "gzip" }, chunks: [message("m1")] }],
  ["a gzip error answer", { header: { ...proto, "accept-encoding": "gzip" }, chunks: [message("connect-error")] }],
  ["an unknown content-encoding", { header: { ...proto, "content-encoding": "zstd" }, chunks: [message("m1")] }],
  ["gzip that does not inflate", { header: { ...proto, "content-encoding": "gzip" }, chunks: [Uint8Array.of(1, 2, 3)] }],
  ["a connect-timeout-ms", { header: { ...proto, "connect-timeout-ms": "5000" }, chunks: [message("m1")] }],
  ["a connect-timeout-ms already passed", { header: { ...proto, "connect-timeout-ms": "0" }, chunks: [message("signal")] }],
  ["a bad connect-timeout-ms", { header: { ...proto, "connect-timeout-ms": "soon" }, chunks: [message("m1")] }],
  ["no body", { header: proto, chunks: [] }],
  ["a message that does not parse", { header: proto, chunks: [Uint8Array.of(0xff, 0xff, 0xff)] }],
  ["a body of readMaxBytes (256 in one set of options)", { header: proto, chunks: [new Uint8Array(256)] }],
  ["a body one byte over", { header: proto, chunks: [new Uint8Array(257)] }],
  ["a body over readMaxBytes in chunks", { header: proto, chunks: Array.from({ length: 8 }, () => new Uint8Array(100)) }],
  ["a content-length over readMaxBytes", { header: { ...proto, "content-length": "300" }, chunks: [message("m1")] }],
  ["a gzip body over readMaxBytes once inflated", { header: { ...proto, "content-encoding": "gzip" }, chunks: [gzipSync(new Uint8Array(300))] }],
  ["a streaming content type", { header: { ...proto, "content-type": "application/connect+proto" }, chunks: [message("m1")] }],
  ["an unknown content type", { header: { ...proto, "content-type": "application/xml" }, chunks: [message("m1")] }],
  ["PUT", { method: "PUT", header: proto, chunks: [message("m1")] }],
  ["GET", { method: "GET", query: query(message("g"), "&connect=v1"), header: {}, chunks: [] }],
  ["GET in JSON, not base64", { method: "GET", query: `?encoding=json&message=${encodeURIComponent('{"name":"gj"}')}&connect=v1`, header: {}, chunks: [] }],
  ["GET compressed", { method: "GET", query: query(gzipSync(message("gz")), "&compression=gzip&connect=v1"), header: {}, chunks: [] }],
  ["GET with an unknown compression", { method: "GET", query: query(message("g"), "&compression=zstd&connect=v1"), header: {}, chunks: [] }],
  ["GET with no encoding", { method: "GET", query: `?message=x&connect=v1`, header: {}, chunks: [] }],
  ["GET without the connect parameter", { method: "GET", query: query(message("g")), header: {}, chunks: [] }],
  ["GET with a wrong connect parameter", { method: "GET", query: query(message("g"), "&connect=v2"), header: {}, chunks: [] }],
  ["GET with a message that does not parse", { method: "GET", query: query(Uint8Array.of(0xff, 0xff)), header: {}, chunks: [] }],
];

const optionSets = [
  ["default options", {}],
  ["gzip and brotli accepted, readMaxBytes 256", { acceptCompression: RPC_COMPRESSION, readMaxBytes: 256 }],
  ["a 1 s maximum timeout", { maxTimeoutMs: 1000 }],
  ["the protocol header required", { requireConnectProtocolHeader: true }],
] as [string, ConnectRouterOptions][];

/** Both handlers' answers to `request`, and what their implementations saw. */
async function both(request: UnaryRequest, options: ConnectRouterOptions, method?: Parameters<typeof getModelHandler>[3]) {
  const seenOurs: Seen[] = [];
  const seenStock: Seen[] = [];
  const [o, s] = [getModelHandler(true, seenOurs, options, method), getModelHandler(false, seenStock, options, method)];
  const ours = await answer(o.handler, request);
  o.ended();
  const stock = await answer(s.handler, request);
  s.ended();
  return { ours, stock, seenOurs, seenStock };
}

describe.each(optionSets)("with %s", (_, options) => {
  it.each(cases)("answers %s as Connect's handler does", async (_name, request) => {
    const { ours, stock, seenOurs, seenStock } = await both(request, options);
    expect(ours).toEqual(stock);
    expect(seenOurs).toEqual(seenStock);
  });
});

describe("a method with side effects", () => {
  const createModel = ModelService.method.createModel;
  const body = toBinary(CreateModelRequestSchema, create(CreateModelRequestSchema, { parent: "workspaces/w", modelId: "m" }));
  it.each([
    ["GET", { method: "GET", query: query(body, "&connect=v1"), header: {}, chunks: [] }],
    ["POST", { header: proto, chunks: [body] }],
  ] as [string, UnaryRequest][])("answers %s as Connect's handler does", async (_name, request) => {
    const { ours, stock } = await both(request, {}, createModel);
    expect(ours).toEqual(stock);
  });
});
