// One JSON log line per call: method, outcome code, duration and request id.
// Successful reads log at debug, everything else at info, so the default
// level shows every change and every failure.
import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { codeNameOf } from "./code-name.js";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { Logger } from "pino";
import { requestIdOf } from "./request-id.js";

/** Writes the line of one call; also for calls refused before the interceptors run (message-check.ts). */
export function logCall(logger: Logger, method: DescMethod, code: string, started: number, requestId: string): void {
  const line = { rpc: `${method.parent.typeName}/${method.name}`, code, ms: Math.round((performance.now() - started) * 100) / 100, requestId };
  if (code === "ok" && method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) logger.debug(line, "call");
  else logger.info(line, "call");
}

export function accessLogInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    try {
      const res = await next(req);
      logCall(logger, req.method, "ok", started, requestId);
      return res;
    } catch (err) {
      logCall(logger, req.method, codeNameOf(err), started, requestId);
      throw err;
    }
  };
}
