// The signed byte routes over fetch: a request that failed before any
// answer (the network, or a CORS refusal the page is not told about) as a
// retryable Unavailable error that says so, the caller's abort as Canceled,
// and an error answer as the ConnectError its JSON body describes.
import { Code, ConnectError } from "@connectrpc/connect";
import { httpError } from "../transfers/http-common.js";
import { canceled } from "../transfers/retry.js";

export type Fetch = typeof globalThis.fetch;

/** fetch(url, init); rejects as described above. */
export async function fetchBytes(doFetch: Fetch, url: URL, init: RequestInit, signal: AbortSignal | undefined): Promise<Response> {
  try {
    return await doFetch(url, { ...init, ...(signal ? { signal } : {}) });
  } catch (err) {
    throw fetchFailure(err, url, signal);
  }
}

/** The error for a request or body read that broke (see fetchBytes). */
export function fetchFailure(err: unknown, url: URL, signal: AbortSignal | undefined): ConnectError {
  if (signal?.aborted) return canceled(signal);
  if (err instanceof ConnectError) return err;
  return new ConnectError(
    `${requestLabel(url)} failed with no answer (${(err as Error)?.message ?? String(err)}): the network, or the server does not allow this page's origin (CORS_ORIGINS)`,
    Code.Unavailable,
    undefined,
    undefined,
    err,
  );
}

function requestLabel(url: URL): string {
  return `the request to ${url.origin}${url.pathname}`;
}

/** Reads an error answer and throws it as a ConnectError (409 marked for isOffsetMismatch). */
export async function throwFetchError(res: Response): Promise<never> {
  const body = await res.text().catch(() => "");
  const err = httpError(res.status, res.headers, body);
  if (res.status === 409) err.metadata.set("x-http-status", "409");
  throw err;
}
