// Every RPC (Connect, gRPC and gRPC-Web alike) under the names of the gRPC
// ecosystem's server metrics (go-grpc-prometheus, grpc-ecosystem's
// dashboards and alerts): started and handled calls per method, the handled
// ones by code, and a latency histogram. Fed by the access log's
// interceptor (interceptors/access-log.ts), so a streaming call counts once,
// when its stream ends, with the whole call's duration.
import type { DescMethod } from "@bufbuild/protobuf";
import { Counter, Histogram, type Registry } from "prom-client";
import type { CallObserver } from "../interceptors/access-log.js";

/** Seconds: from a cached read to a long upload stream or watch. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const TYPES = { unary: "unary", server_streaming: "server_stream", client_streaming: "client_stream", bidi_streaming: "bidi_stream" } as const;

export function createRpcMetrics(registry: Registry): CallObserver {
  const labelNames = ["grpc_type", "grpc_service", "grpc_method"] as const;
  const started = new Counter({ name: "grpc_server_started_total", help: "RPCs started on the server, per method", labelNames, registers: [registry] });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, per method and gRPC code (a streaming RPC when its stream ends)",
    labelNames: [...labelNames, "grpc_code"],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from the start of an RPC to its end (a streaming RPC's whole stream), per method",
    labelNames,
    buckets: BUCKETS,
    registers: [registry],
  });
  // Each method's labels made once, and once per method and code: every call counts three times.
  const byMethod = new WeakMap<DescMethod, { labels: Record<(typeof labelNames)[number], string>; byCode: Map<string, Record<string, string>> }>();
  const of = (m: DescMethod) => {
    let entry = byMethod.get(m);
    if (!entry) {
      entry = { labels: { grpc_type: TYPES[m.methodKind], grpc_service: m.parent.typeName, grpc_method: m.name }, byCode: new Map() };
      byMethod.set(m, entry);
    }
    return entry;
  };
  return {
    started: (method) => started.inc(of(method).labels),
    finished(call) {
      const entry = of(call.method);
      let withCode = entry.byCode.get(call.code);
      if (!withCode) {
        withCode = { ...entry.labels, grpc_code: grpcCodeName(call.code) };
        entry.byCode.set(call.code, withCode);
      }
      handled.inc(withCode);
      seconds.observe(entry.labels, call.ms / 1000);
    },
  };
}

/** "not_found" -> "NotFound", "ok" -> "OK": the names gRPC's own metrics use. */
export function grpcCodeName(code: string): string {
  if (code === "ok") return "OK";
  return code.replace(/(^|_)([a-z])/g, (_, _sep: string, c: string) => c.toUpperCase());
}
