// For the tests of modelreg's unary handlers (http/unary-router.ts): the
// same method, implementation and interceptor registered with our handlers
// and with Connect's own, a request answered by either, and what the
// implementation saw of its context.
import { create, type DescMethodUnary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouterOptions, createConnectRouter, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { ErrorInfoSchema, GetModelRequestSchema, GetModelResponseSchema, ModelService } from "@modelreg/proto";
import { withUnaryHandlers } from "../http/unary-router.js";

/** What the implementation saw of a call, and how its context ended. */
export interface Seen {
  timeout: boolean;
  header: string | null;
  abortedDuring: boolean;
  abortedAfter?: boolean;
  reasonAfter?: string;
}

/** An implementation of GetModel whose answer depends on the name asked for: an error, a large answer, or a small one. */
function getModelImpl(seen: Seen[], onContext: (ctx: HandlerContext) => void) {
  return async (req: { name: string }, ctx: HandlerContext) => {
    onContext(ctx);
    seen.push({ timeout: ctx.timeoutMs() !== undefined, header: ctx.requestHeader.get("x-test"), abortedDuring: req.name === "signal" ? ctx.signal.aborted : false });
    ctx.responseHeader.set("x-impl", "yes");
    ctx.responseTrailer.set("x-impl-trailer", "t");
    if (req.name === "connect-error")
      throw new ConnectError("no such model", Code.NotFound, { "x-meta": "m" }, [{ desc: ErrorInfoSchema, value: { reason: "MODEL_NOT_FOUND", domain: "test" } }]);
    if (req.name === "plain-error") throw new Error("boom");
    return create(GetModelResponseSchema, { model: { name: req.name, description: req.name === "large" ? "x".repeat(4000) : "small" } });
  };
}

/** GetModel's handler, ours or Connect's, with `options`; `ended()` records how the context ended, once the answer is out. */
export function getModelHandler(ours: boolean, seen: Seen[], options: ConnectRouterOptions, method: DescMethodUnary = ModelService.method.getModel): { handler: UniversalHandler; ended(): void } {
  let context: HandlerContext | undefined;
  const interceptor: Interceptor = (next) => async (req) => {
    const res = await next(req);
    res.header.set("x-interceptor", "1");
    return res;
  };
  const router = createConnectRouter({ ...options, interceptors: [interceptor] });
  const target = ours ? withUnaryHandlers(router, { ...options, interceptors: [interceptor] }) : router;
  target.rpc(method, getModelImpl(seen, (ctx) => (context = ctx)) as never);
  return {
    handler: router.handlers[0]!,
    ended() {
      const last = seen.at(-1);
      if (!last || !context) return;
      last.abortedAfter = context.signal.aborted;
      const reason = context.signal.reason as unknown;
      last.reasonAfter = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    },
  };
}

export interface UnaryRequest {
  method?: string;
  /** Path and query after the method's path. */
  query?: string;
  header: Record<string, string>;
  chunks: Uint8Array[];
  /** The request's signal, aborted before the call (a client gone). */
  aborted?: boolean;
}

/** The answer to `r`: status, headers, body bytes (base64) and trailers, sorted. */
export async function answer(handler: UniversalHandler, r: UnaryRequest) {
  const signal = r.aborted ? AbortSignal.abort(new ConnectError("the client went away", Code.Aborted)) : new AbortController().signal;
  const res: UniversalServerResponse = await handler({
    httpVersion: "2.0",
    method: r.method ?? "POST",
    url: `http://localhost${handler.requestPath}${r.query ?? ""}`,
    header: new Headers(r.header),
    body: (async function* () {
      yield* r.chunks;
    })(),
    signal,
  });
  const parts: number[] = [];
  if (res.body && Symbol.asyncIterator in res.body) for await (const c of res.body as AsyncIterable<Uint8Array>) parts.push(...c);
  const entries = (h: UniversalServerResponse["header"]) => [...new Headers(h ?? {}).entries()].sort();
  return { status: res.status, header: entries(res.header), body: Buffer.from(parts).toString("base64"), trailer: entries(res.trailer) };
}

/** A GetModelRequest asking for `name`, in binary. */
export const getModelMessage = (name: string) => toBinary(GetModelRequestSchema, create(GetModelRequestSchema, { name }));
