// The interceptors every call of a client goes through, the Node client's
// and the browser's alike: the access key as `Authorization: Bearer …` (with
// a hint on Unauthenticated answers), the caller's extra headers, then the
// caller's own interceptors. No node: module here.
import type { Interceptor } from "@connectrpc/connect";
import { accessKeyHintInterceptor } from "./access-key-hint.js";

/** Sets `headers` on every request. */
export function headerInterceptor(headers: Record<string, string>): Interceptor {
  return (next) => (req) => {
    for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
    return next(req);
  };
}

export interface CallInterceptorOptions {
  /** The access key, `<key_id>.<secret>` (undefined: none is sent). */
  accessKey: string | undefined;
  /** The server's address (the hint says more about a server on this machine). */
  baseUrl: string;
  headers?: Record<string, string> | undefined;
  interceptors?: Interceptor[] | undefined;
}

/** Outermost first: the key's hint, the key, the extra headers, the caller's interceptors. */
export function callInterceptors(o: CallInterceptorOptions): Interceptor[] {
  return [
    accessKeyHintInterceptor(o.accessKey, o.baseUrl),
    ...(o.accessKey ? [headerInterceptor({ authorization: `Bearer ${o.accessKey}` })] : []),
    ...(o.headers ? [headerInterceptor(o.headers)] : []),
    ...(o.interceptors ?? []),
  ];
}
