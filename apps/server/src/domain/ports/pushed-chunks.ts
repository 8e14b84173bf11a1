// A Node byte stream's chunks one by one, as they were pushed.
//
// `for await` over a byte stream reads everything it has buffered at once
// (Readable.read() with no size), and when that is more than one chunk it
// copies them into one new buffer. A blob put reading an export's archive
// spent 600 ms per GiB in that copy, and its new buffers were most of what
// V8's collector was called for. A flowing stream hands out one buffered
// chunk at a time and never copies; this iterates it that way, paused while
// a chunk waits for the reader (so backpressure holds).
import { finished, type Readable } from "node:stream";

/** Chunks waiting for the reader before the stream is paused. */
const QUEUED = 1;

/** True for a Node stream of bytes (not objects), which pushedChunks() reads. */
export function isByteStream(body: unknown): body is Readable {
  const s = body as Partial<Readable> | null;
  return typeof s?.on === "function" && typeof s.pause === "function" && typeof s.resume === "function" && s.readableObjectMode === false;
}

/**
 * The stream's chunks as pushed. Ends at 'end'; fails with the stream's
 * error, or with ERR_STREAM_PREMATURE_CLOSE when it closes before its end.
 * Leaving early destroys the stream, as `for await` does.
 */
export async function* pushedChunks(stream: Readable): AsyncGenerator<Uint8Array | string> {
  const queue: (Uint8Array | string)[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (chunk: Uint8Array | string) => {
    queue.push(chunk);
    if (queue.length >= QUEUED) stream.pause();
    notify();
  };
  const stopWatching = finished(stream, (err) => {
    if (err) failure = err;
    else ended = true;
    notify();
  });
  stream.on("data", onData);
  stream.resume(); // also a stream someone paused before it was handed over
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        if (queue.length < QUEUED && !ended && !failure) stream.resume();
        yield chunk;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stream.off("data", onData);
    stopWatching();
    if (!ended) stream.destroy();
  }
}
