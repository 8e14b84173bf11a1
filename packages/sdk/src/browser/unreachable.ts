// A call that got no answer at all: fetch rejects with a bare TypeError
// ("Failed to fetch"), which Connect would report as Unknown. It is either
// the network or the server refusing this page's origin (the browser does
// not tell which): Unavailable, saying both.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Browsers' messages for a fetch that got no answer: Chromium, Firefox, Safari. */
const NO_ANSWER = /failed to fetch|networkerror|load failed|network error/i;

export function unreachableInterceptor(baseUrl: string): Interceptor {
  let server = baseUrl;
  try {
    server = new URL(baseUrl).origin;
  } catch {}
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (req.signal.aborted || !(err instanceof TypeError) || !NO_ANSWER.test(err.message)) throw err;
      const page = (globalThis as { location?: { origin?: string } }).location?.origin;
      throw new ConnectError(
        `no answer from ${server} (${err.message}): the network, or the server does not allow ${page ? `this page's origin ${page}` : "this page's origin"} (see its CORS_ORIGINS)`,
        Code.Unavailable,
        undefined,
        undefined,
        err,
      );
    }
  };
}
