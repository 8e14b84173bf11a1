// Request ids: taken from a client's `x-request-id` header when it is sane,
// otherwise generated; echoed back in the `x-request-id` response header.
import { randomUUID } from "node:crypto";
import type { Interceptor, UnaryRequest, StreamRequest } from "@connectrpc/connect";

const HEADER = "x-request-id";
const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(req: UnaryRequest | StreamRequest): string {
  const given = req.header.get(HEADER);
  if (given && SANE.test(given)) return given;
  const id = randomUUID();
  req.header.set(HEADER, id);
  return id;
}

export function requestIdInterceptor(): Interceptor {
  return (next) => async (req) => {
    const id = requestIdOf(req);
    const res = await next(req);
    res.header.set(HEADER, id);
    return res;
  };
}
