// The router the RPC routes register with: unary methods are answered over
// gRPC and the Connect protocol by modelreg's own handlers (./grpc-unary.ts,
// ./connect-unary.ts), built from Connect's pieces on a call context whose
// abort signal is made only when read (./unary-call.ts); over gRPC-Web by
// Connect's. Streaming methods go to Connect's router unchanged. Options are
// merged exactly as Connect's router merges them.
//
// These handlers use Connect's private exports ("internal code that does
// not follow semantic versioning"); the server pins @connectrpc/connect to
// one version, as Connect asks of code that uses them, and the handlers'
// tests compare their answers with Connect's own handlers' byte for byte.
import { Code, ConnectError, type ConnectRouter, type ConnectRouterOptions, createMethodImplSpec, createServiceImplSpec } from "@connectrpc/connect";
import { createUniversalMethodHandler, type ProtocolHandlerFactory, validateUniversalHandlerOptions } from "@connectrpc/connect/protocol";
import { createHandlerFactory as grpcWebFactory } from "@connectrpc/connect/protocol-grpc-web";
import { connectUnaryHandler } from "./connect-unary.js";
import { grpcUnaryHandler } from "./grpc-unary.js";

type MethodImplSpec = ReturnType<typeof createMethodImplSpec>;
export type UnarySpec = Extract<MethodImplSpec, { kind: "unary" }>;
export type ValidOptions = ReturnType<typeof validateUniversalHandlerOptions>;

/** A protocol factory of one of our unary handlers, named as Connect names the protocol. */
function factory(protocolName: string, make: (opt: ValidOptions, spec: UnarySpec) => ReturnType<ProtocolHandlerFactory>, opt: ValidOptions): ProtocolHandlerFactory {
  return Object.assign((spec: MethodImplSpec) => make(opt, spec as UnarySpec), { protocolName });
}

/** `router`, with each unary method registered through it served as the file's head says. */
export function withUnaryHandlers(router: ConnectRouter, routerOptions: ConnectRouterOptions = {}): ConnectRouter {
  const base = { ...routerOptions, ...validateUniversalHandlerOptions(routerOptions) };
  const add = (spec: MethodImplSpec, options: ConnectRouterOptions | undefined, stock: () => void) => {
    const flags = options ?? routerOptions;
    if (spec.kind !== "unary") return stock();
    const opt = options ? { ...validateUniversalHandlerOptions(base), ...options } : base;
    const protocols: ProtocolHandlerFactory[] = [];
    if (flags.grpc !== false) protocols.push(factory("grpc", grpcUnaryHandler, opt));
    if (flags.grpcWeb !== false) protocols.push(grpcWebFactory(opt));
    if (flags.connect !== false) protocols.push(factory("connect", connectUnaryHandler, opt));
    if (protocols.length === 0) throw new ConnectError("cannot create handler, all protocols are disabled", Code.InvalidArgument);
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
