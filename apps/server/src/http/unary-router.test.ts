// The router's wrapper registers unary methods with modelreg's handlers for
// gRPC and Connect, and everything else as Connect's router would.
import { create, toBinary } from "@bufbuild/protobuf";
import { createConnectRouter } from "@connectrpc/connect";
import { FileService, GetModelResponseSchema, ModelService, ReadFileRequestSchema, ReadFileResponseSchema } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { answer, getModelMessage } from "../testing/unary-handlers.js";
import { withUnaryHandlers } from "./unary-router.js";

const getModel = ModelService.method.getModel;
const grpc = { "content-type": "application/grpc", te: "trailers" };

function envelope(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
}

describe("withUnaryHandlers", () => {
  it("answers a unary method over gRPC-Web with Connect's handler, as Connect's router does", async () => {
    const answered = create(GetModelResponseSchema, { model: { name: "w" } });
    const [ours, stock] = [createConnectRouter(), createConnectRouter()];
    withUnaryHandlers(ours).rpc(getModel, () => answered);
    stock.rpc(getModel, () => answered);
    const request = { header: { "content-type": "application/grpc-web+proto" }, chunks: [envelope(getModelMessage("x"))] };
    const web = await answer(ours.handlers[0]!, request);
    expect(web).toEqual(await answer(stock.handlers[0]!, request));
    expect(web.status).toBe(200);
  });

  it("serves a streaming method through Connect's own handlers", async () => {
    const impl = async function* () {
      yield create(ReadFileResponseSchema, { offset: 0n, data: Uint8Array.of(1, 2) });
      yield create(ReadFileResponseSchema, { offset: 2n, data: Uint8Array.of(3) });
    };
    const [ours, stock] = [createConnectRouter(), createConnectRouter()];
    withUnaryHandlers(ours).rpc(FileService.method.readFile, impl);
    stock.rpc(FileService.method.readFile, impl);
    const request = { header: grpc, chunks: [envelope(toBinary(ReadFileRequestSchema, create(ReadFileRequestSchema, { path: "a" })))] };
    const answered = await answer(ours.handlers[0]!, request);
    expect(answered).toEqual(await answer(stock.handlers[0]!, request));
    expect(Buffer.from(answered.body, "base64").byteLength).toBeGreaterThan(10);
  });

  it("registers a whole service: each unary method served, the missing ones Unimplemented, as Connect's router does", async () => {
    const answered = create(GetModelResponseSchema, { model: { name: "s" } });
    const [ours, stock] = [createConnectRouter(), createConnectRouter()];
    withUnaryHandlers(ours).service(ModelService, { getModel: () => answered });
    stock.service(ModelService, { getModel: () => answered });
    expect(ours.handlers.map((h) => h.requestPath)).toEqual(stock.handlers.map((h) => h.requestPath));
    for (const [i, h] of ours.handlers.entries())
      for (const request of [
        { header: grpc, chunks: [envelope(new Uint8Array(0))] },
        { header: { "content-type": "application/proto" }, chunks: [] },
      ])
        expect(await answer(h, request)).toEqual(await answer(stock.handlers[i]!, request));
  });

  it.each([
    ["gRPC off", { grpc: false }],
    ["Connect off", { connect: false }],
    ["gRPC-Web off", { grpcWeb: false }],
  ] as const)("leaves out a protocol turned off in the method's options (%s), as Connect's router does", async (_, flags) => {
    const answered = create(GetModelResponseSchema, { model: { name: "f" } });
    const [ours, stock] = [createConnectRouter(), createConnectRouter()];
    // Connect's router reads these flags from a method's options too.
    withUnaryHandlers(ours).rpc(getModel, () => answered, flags as never);
    stock.rpc(getModel, () => answered, flags as never);
    for (const request of [
      { header: grpc, chunks: [envelope(getModelMessage("x"))] },
      { header: { "content-type": "application/grpc-web" }, chunks: [envelope(getModelMessage("x"))] },
      { header: { "content-type": "application/proto" }, chunks: [getModelMessage("x")] },
    ])
      expect(await answer(ours.handlers[0]!, request)).toEqual(await answer(stock.handlers[0]!, request));
  });

  it("refuses a method with every protocol turned off, as Connect's router does", () => {
    const off = { grpc: false, grpcWeb: false, connect: false } as never;
    expect(() => withUnaryHandlers(createConnectRouter()).rpc(getModel, () => ({}), off)).toThrow("cannot create handler, all protocols are disabled");
    expect(() => createConnectRouter().rpc(getModel, () => ({}), off)).toThrow("cannot create handler, all protocols are disabled");
  });
});
