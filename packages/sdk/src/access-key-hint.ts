// What to do about an Unauthenticated answer, said by the client that knows
// what it sent: the SDK adds it to the error's message (the CLI prints its
// own, which also knows about profiles and `modelreg login`).
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { isLoopback } from "./loopback.js";

/** The hint for a refused or missing access key. `keyId`: the public half of the key sent, if any. */
export function accessKeyHint(opts: { keyId: string | undefined; baseUrl: string }): string {
  let hint = opts.keyId
    ? `the server refused access key ${opts.keyId}: pass a current one as accessKey to createRegistryClient or in MODELREG_ACCESS_KEY`
    : "no access key was sent: pass accessKey to createRegistryClient, or set MODELREG_ACCESS_KEY";
  if (isLoopback(opts.baseUrl)) {
    hint += "; a server started on this machine with npm start wrote its admin key to DATA_DIR/admin.key (MODELREG_ACCESS_KEY=$(cat data/admin.key))";
  }
  return hint;
}

/** The server's message of an error the hint was added to; see errorDetails(). */
export const unhintedMessages = new WeakMap<ConnectError, string>();

/** Adds accessKeyHint() to every Unauthenticated error of the calls it wraps. */
export function accessKeyHintInterceptor(token: string | undefined, baseUrl: string): Interceptor {
  // The public half only; a token without one (malformed) is named by nothing of it.
  const dot = token?.indexOf(".") ?? -1;
  const hint = accessKeyHint({ keyId: dot > 0 ? token!.slice(0, dot) : undefined, baseUrl });
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (!(err instanceof ConnectError) || err.code !== Code.Unauthenticated || unhintedMessages.has(err)) throw err;
      const hinted = new ConnectError(`${err.rawMessage} (hint: ${hint})`, err.code, err.metadata, undefined, err);
      hinted.details = err.details;
      unhintedMessages.set(hinted, err.rawMessage);
      throw hinted;
    }
  };
}
