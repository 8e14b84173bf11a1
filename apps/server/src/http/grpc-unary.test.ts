// The unary gRPC handler answers every request as Connect's own gRPC handler
// does: the same requests go to both, built by the same router options with
// the same implementation and interceptor, and their answers (status,
// headers, body bytes, trailers) and what the implementation saw of its
// context must be equal. Malformed framing, compression, timeouts and size
// limits included: those the handler leaves to Connect's transforms.
import { gzipSync } from "node:zlib";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouterOptions, createConnectRouter, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { ErrorInfoSchema, FileService, GetModelRequestSchema, GetModelResponseSchema, ModelService, ReadFileRequestSchema, ReadFileResponseSchema } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { RPC_COMPRESSION } from "./compression.js";
import { withGrpcUnary } from "./grpc-unary.js";

const getModel = ModelService.method.getModel;
const PATH = `/${ModelService.typeName}/${getModel.name}`;

/** What the implementation saw of a call, and how its context ended. */
interface Seen {
  timeout: boolean;
  header: string | null;
  abortedAfter?: boolean;
  reasonAfter?: string;
}

function handlerOf(ours: boolean, seen: Seen[], options: ConnectRouterOptions): { handler: UniversalHandler; ended(): void } {
  let context: HandlerContext | undefined;
  const impl = async (req: { name: string }, ctx: HandlerContext) => {
    context = ctx;
    seen.push({ timeout: ctx.timeoutMs() !== undefined, header: ctx.requestHeader.get("x-test") });
    ctx.responseHeader.set("x-impl", "yes");
    ctx.responseTrailer.set("x-impl-trailer", "t");
    if (req.name === "connect-error")
      throw new ConnectError("no such model", Code.NotFound, { "x-meta": "m" }, [{ desc: ErrorInfoSchema, value: { reason: "MODEL_NOT_FOUND", domain: "test" } }]);
    if (req.name === "plain-error") throw new Error("boom");
    return create(GetModelResponseSchema, { model: { name: req.name, description: req.name === "large" ? "x".repeat(4000) : "small" } });
  };
  const interceptor: Interceptor = (next) => async (req) => {
    const res = await next(req);
    res.header.set("x-interceptor", "1");
    return res;
  };
  const router = createConnectRouter({ ...options, interceptors: [interceptor] });
  const target = ours ? withGrpcUnary(router, { ...options, interceptors: [interceptor] }) : router;
  target.rpc(getModel, impl as never);
  return {
    handler: router.handlers[0]!,
    // How the context ended, read once the answer is out.
    ended() {
      const last = seen.at(-1);
      if (!last || !context) return;
      last.abortedAfter = context.signal.aborted;
      const reason = context.signal.reason as unknown;
      last.reasonAfter = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    },
  };
}

interface Request {
  method?: string;
  header: Record<string, string>;
  chunks: Uint8Array[];
}

async function answer(handler: UniversalHandler, r: Request) {
  const res: UniversalServerResponse = await handler({
    httpVersion: "2.0",
    method: r.method ?? "POST",
    url: `http://localhost${PATH}`,
    header: new Headers(r.header),
    body: (async function* () {
      yield* r.chunks;
    })(),
    signal: new AbortController().signal,
  });
  const parts: number[] = [];
  if (res.body && Symbol.asyncIterator in res.body) for await (const c of res.body as AsyncIterable<Uint8Array>) parts.push(...c);
  const entries = (h: UniversalServerResponse["header"]) => [...new Headers(h ?? {}).entries()].sort();
  return { status: res.status, header: entries(res.header), body: Buffer.from(parts).toString("base64"), trailer: entries(res.trailer) };
}

function envelope(data: Uint8Array, flags = 0, length = data.byteLength): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  new DataView(out.buffer).setUint32(1, length);
  out[0] = flags;
  out.set(data, 5);
  return out;
}

const message = (name: string) => toBinary(GetModelRequestSchema, create(GetModelRequestSchema, { name }));
const grpc = { "content-type": "application/grpc", te: "trailers" };
const bytes = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

const cases: [string, Request][] = [
  ["one message", { header: { ...grpc, "x-test": "h" }, chunks: [envelope(message("m1"))] }],
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
    const [o, s] = [handlerOf(true, seenOurs, options), handlerOf(false, seenStock, options)];
    const ours = await answer(o.handler, request);
    o.ended();
    const stock = await answer(s.handler, request);
    s.ended();
    expect(ours).toEqual(stock);
    expect(seenOurs).toEqual(seenStock);
  });
});

describe("withGrpcUnary", () => {
  it("leaves the other protocols of a unary method to Connect's handlers", async () => {
    const router = createConnectRouter();
    const answered = create(GetModelResponseSchema, { model: { name: "c" } });
    withGrpcUnary(router).rpc(getModel, () => answered);
    const connect = await answer(router.handlers[0]!, { header: { "content-type": "application/proto" }, chunks: [message("x")] });
    expect(connect.status).toBe(200);
    expect(Buffer.from(connect.body, "base64")).toEqual(Buffer.from(toBinary(GetModelResponseSchema, answered)));
  });

  it("serves a streaming method through Connect's own gRPC handler", async () => {
    const impl = async function* () {
      yield create(ReadFileResponseSchema, { offset: 0n, data: Uint8Array.of(1, 2) });
      yield create(ReadFileResponseSchema, { offset: 2n, data: Uint8Array.of(3) });
    };
    const [ours, stock] = [createConnectRouter(), createConnectRouter()];
    withGrpcUnary(ours).rpc(FileService.method.readFile, impl);
    stock.rpc(FileService.method.readFile, impl);
    const request = { header: grpc, chunks: [envelope(toBinary(ReadFileRequestSchema, create(ReadFileRequestSchema, { path: "a" })))] };
    const answered = await answer(ours.handlers[0]!, request);
    expect(answered).toEqual(await answer(stock.handlers[0]!, request));
    expect(Buffer.from(answered.body, "base64").byteLength).toBeGreaterThan(10);
  });

  it("registers a whole service: each unary method served, the missing ones Unimplemented, as Connect's router does", async () => {
    const answered = create(GetModelResponseSchema, { model: { name: "s" } });
    const [ours, stock] = [createConnectRouter(), createConnectRouter()];
    withGrpcUnary(ours).service(ModelService, { getModel: () => answered });
    stock.service(ModelService, { getModel: () => answered });
    expect(ours.handlers.map((h) => h.requestPath)).toEqual(stock.handlers.map((h) => h.requestPath));
    for (const [i, h] of ours.handlers.entries()) {
      const request = { header: grpc, chunks: [envelope(new Uint8Array(0))] };
      expect(await answer(h, request)).toEqual(await answer(stock.handlers[i]!, request));
    }
  });
});
