// What one request on the byte routes tells about itself as it runs: the
// access key its signed URL was issued to, and the bytes it moves (for the
// access log and the metrics), and whether its client went away.
import { Transform } from "node:stream";
import type { Req, Res } from "./file-routes.js";

export interface ByteCall {
  /** The access key of the signed URL, once verified. */
  keyId?: string;
  /** Bytes received (upload) or sent (download) so far. */
  bytes(n: number): void;
}

/** `body`, counting its bytes into `call` as they are read. */
export async function* countedBody(body: AsyncIterable<Uint8Array>, call: ByteCall): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    call.bytes(chunk.length);
    yield chunk;
  }
}

/** A pass-through stream counting the bytes written to the response into `call`. */
export function countingStream(call: ByteCall): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      call.bytes(chunk.length);
      done(null, chunk);
    },
  });
}

/**
 * Whether the request's client went away before its answer was complete:
 * its connection closed (HTTP/1.1), or its stream was reset or closed
 * (HTTP/2). Whatever the route failed with then (a premature close, an
 * aborted body) is the consequence, not a fault of the server.
 */
export function clientWentAway(req: Req, res: Res): boolean {
  if ("stream" in res) {
    // HTTP/2: the response's writableFinished is its stream's, and Node ends
    // a reset stream's writable side, which finishes it at once when no
    // bytes were waiting to go out. Only the server's own end() tells that
    // the answer was complete.
    if (res.writableEnded) return false;
    return res.stream.destroyed || res.stream.closed;
  }
  if (res.writableFinished) return false;
  return res.destroyed || Boolean(req.socket?.destroyed);
}
