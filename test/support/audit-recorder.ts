// Records the request id of every mutating call a client makes, so a suite
// can check afterwards that the server's audit log holds each of them.
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";

export interface RecordedCall {
  requestId: string;
  method: string;
  ok: boolean;
}

export function auditRecorder(): { interceptor: Interceptor; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const interceptor: Interceptor = (next) => async (req) => {
    if (req.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return next(req);
    const requestId = `rec-${randomUUID()}`;
    req.header.set("x-request-id", requestId);
    const method = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      calls.push({ requestId, method, ok: true });
      return res;
    } catch (e) {
      // A call that never reached the server (connection refused) leaves no trace to check.
      if (!(e instanceof ConnectError && e.code === 14)) calls.push({ requestId, method, ok: false });
      throw e;
    }
  };
  return { interceptor, calls };
}
