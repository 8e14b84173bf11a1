// Whether a server address is this machine. The SDK asks such a server for
// uncompressed answers (see createTransport); the CLI offers the local
// server's admin key file only to it, which is why the test is strict: the
// addresses a server on this machine is reached by (127.0.0.1, localhost,
// [::1]), not every name or address that might also lead here.

/** Is the host of `url` 127.0.0.1, localhost or [::1]? */
export function isLoopback(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}
