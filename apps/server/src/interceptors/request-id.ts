// Request ids: taken from a client's `x-request-id` header when it is sane,
// otherwise generated; echoed back in the `x-request-id` response header.
// Worked out once per call and kept in the call's context values.
import { randomUUID } from "node:crypto";
import { createContextKey, type Interceptor, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";
import { madeOnce } from "./made-once.js";

const HEADER = "x-request-id";
const SANE = /^[A-Za-z0-9._:-]{1,128}$/;
const requestIdKey = createContextKey<string>("", { description: "modelreg request id" });

export function requestIdOf(req: UnaryRequest | StreamRequest): string {
  const known = req.contextValues.get(requestIdKey);
  if (known) return known;
  const id = requestIdFromHeader(req.header);
  req.contextValues.set(requestIdKey, id);
  return id;
}

/** The caller's request id when it is sane, else a new one. */
export function requestIdFromHeader(header: Headers): string {
  const given = header.get(HEADER);
  return given && SANE.test(given) ? given : randomUUID();
}

export function requestIdInterceptor(): Interceptor {
  return madeOnce(async (req, next) => {
    const id = requestIdOf(req);
    const res = await next(req);
    res.header.set(HEADER, id);
    return res;
  });
}
