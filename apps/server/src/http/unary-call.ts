// One unary call's context and its run through the interceptors, as
// Connect's createHandlerContext and invokeUnaryImplementation make them,
// for the unary handlers of ./grpc-unary.ts and ./connect-unary.ts.
//
// The difference is the abort signal. Connect's context builds one per call
// (two AbortControllers, one linked to the request's, the server's shutdown
// and the deadline through four event listeners) and aborts it when the
// call ends, which builds a DOMException, with its stack trace, and
// dispatches an event. A unary method rarely looks at its signal (none of
// modelreg's does), and those steps were about a tenth of a bare Connect
// server's CPU per GetVersion (issue 17). Here the signal is made the first
// time anyone reads it, from the call's interceptors to its implementation,
// linked as Connect links it (Connect's own functions, the deadline counted
// from the call's start); read after the call ended, it is already aborted,
// with the reason Connect's would have had. The request's headers are the
// request's own, not a copy (nothing reads them after the handler starts).
import { create, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type HandlerContext, type Interceptor, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { createDeadlineSignal, createLinkedAbortController, getAbortSignalReason, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import type { UnarySpec } from "./unary-router.js";

/** What a call's context takes besides its method and request. */
export interface UnaryContextInit {
  protocolName: string;
  timeoutMs: number | undefined;
  shutdownSignal: AbortSignal | undefined;
  responseHeader: Headers;
  responseTrailer: Headers;
}

export interface UnaryContext extends HandlerContext {
  /** Ends the call: its signal is (or, once read, will be) aborted with `reason`, unless it was already. */
  abort(reason?: unknown): void;
}

/** The context of a call of `spec` made by `req`. */
export function createUnaryContext(spec: UnarySpec, req: UniversalServerRequest, init: UnaryContextInit): UnaryContext {
  const { timeoutMs, shutdownSignal } = init;
  const requestSignal = req.signal;
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  let live: { controller: AbortController; cleanup: () => void } | undefined;
  let ended: { reason: unknown } | undefined;
  const signalOf = (): AbortController => {
    if (ended) {
      // Connect's abort(undefined) leaves AbortController's own reason (a DOMException named AbortError).
      const controller = new AbortController();
      controller.abort(ended.reason);
      return controller;
    }
    const timer = createDeadlineSignal(deadline === undefined ? undefined : deadline - Date.now());
    live = { controller: createLinkedAbortController(timer.signal, requestSignal, shutdownSignal), cleanup: timer.cleanup };
    return live.controller;
  };
  let controller: AbortController | undefined;
  return {
    method: spec.method,
    service: spec.method.parent,
    protocolName: init.protocolName,
    requestMethod: req.method,
    url: req.url,
    requestHeader: req.header,
    responseHeader: init.responseHeader,
    responseTrailer: init.responseTrailer,
    values: req.contextValues ?? createContextValues(),
    timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
    get signal() {
      controller ??= signalOf();
      return controller.signal;
    },
    abort(reason?: unknown) {
      if (live) {
        live.cleanup();
        live.controller.abort(reason);
        return;
      }
      if (ended || controller) return;
      // What Connect's signal would hold by now: the reason of the first linked signal that aborted, else this one.
      const gone = requestSignal.aborted ? requestSignal : shutdownSignal?.aborted ? shutdownSignal : undefined;
      if (gone) ended = { reason: getAbortSignalReason(gone) };
      else if (deadline !== undefined && deadline <= Date.now()) ended = { reason: new ConnectError("the operation timed out", Code.DeadlineExceeded) };
      else ended = { reason };
    },
  };
}

/**
 * The call's request through the interceptors to the implementation, and
 * its answer's message, with the headers and trailers the interceptors
 * returned copied into the context's: Connect's invokeUnaryImplementation,
 * with the signal read only by whoever reads it.
 */
export async function invokeUnary(spec: UnarySpec, context: UnaryContext, input: unknown, interceptors: Interceptor[]): Promise<unknown> {
  const output = spec.method.output as DescMessage;
  const call = async (req: UnaryRequest): Promise<UnaryResponse> => {
    const implContext: HandlerContext = {
      method: context.method,
      service: req.service,
      protocolName: context.protocolName,
      requestMethod: context.requestMethod,
      url: context.url,
      requestHeader: req.header,
      responseHeader: context.responseHeader,
      responseTrailer: context.responseTrailer,
      values: req.contextValues,
      timeoutMs: context.timeoutMs,
      get signal() {
        return req.signal;
      },
    };
    const message = await (spec.impl as (m: unknown, c: HandlerContext) => unknown)(req.message, implContext);
    return { stream: false, method: spec.method, service: spec.method.parent, header: context.responseHeader, trailer: context.responseTrailer, message: create(output, message as never) } as UnaryResponse;
  };
  let next = call as (req: UnaryRequest) => Promise<UnaryResponse>;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next as never) as typeof next;
  const request = {
    stream: false,
    message: input,
    method: spec.method,
    requestMethod: context.requestMethod,
    url: context.url,
    header: context.requestHeader,
    service: spec.method.parent,
    contextValues: context.values,
    get signal() {
      return context.signal;
    },
  } as UnaryRequest;
  const { message, header, trailer } = await next(request);
  copyHeaders(header, context.responseHeader);
  copyHeaders(trailer, context.responseTrailer);
  return message;
}

/** `to` made equal to `from`, unless they are one (Connect's copyHeaders). */
function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  for (const key of [...to.keys()]) to.delete(key);
  from.forEach((value, key) => {
    to.set(key, value);
  });
}
