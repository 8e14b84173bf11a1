// One JSON log line per call: method, outcome code, duration and request id.
// Successful reads log at debug, everything else at info, so the default
// level shows every change and every failure.
import type { Interceptor } from "@connectrpc/connect";
import { codeNameOf } from "./code-name.js";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { Logger } from "pino";
import { requestIdOf } from "./request-id.js";

export function accessLogInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    const rpc = `${req.service.typeName}/${req.method.name}`;
    const readOnly = req.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
    try {
      const res = await next(req);
      const line = { rpc, code: "ok", ms: Math.round((performance.now() - started) * 100) / 100, requestId };
      if (readOnly) logger.debug(line, "call");
      else logger.info(line, "call");
      return res;
    } catch (err) {
      const code = codeNameOf(err);
      logger.info({ rpc, code, ms: Math.round((performance.now() - started) * 100) / 100, requestId }, "call");
      throw err;
    }
  };
}
