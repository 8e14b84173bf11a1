// An interceptor whose body is one function, made when the server starts.
//
// Connect applies interceptors per call: `(next) => (req) => ...` returns a
// new function for every call. When that function holds the interceptor's
// work, every call runs a fresh closure, and V8 keeps the optimised code
// of such closures only weakly: a full collection with none of them alive
// drops it, and the next calls run unoptimised until it is compiled again
// (GetVersion at 64 in flight: some 30 recompilations after each full
// collection, issue 17). Here the per-call function only forwards to the
// body, which lives as long as the server and keeps its optimised code.
import type { Interceptor, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "@connectrpc/connect";

export type AnyRequest = UnaryRequest | StreamRequest;
export type AnyResponse = UnaryResponse | StreamResponse;
/** The rest of the chain, as Connect hands it to an interceptor. */
export type Next = (req: AnyRequest) => Promise<AnyResponse>;

/** `body` runs each call with the rest of the chain; it may return `next(req)` itself (no promise of its own). */
export function madeOnce(body: (req: AnyRequest, next: Next) => Promise<AnyResponse>): Interceptor {
  return (next) => (req) => body(req, next as Next) as ReturnType<typeof next>;
}
