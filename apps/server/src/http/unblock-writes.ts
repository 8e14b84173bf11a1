// A response whose client went away while a write waited for 'drain' (the
// connection reset, the HTTP/2 stream cancelled) emits 'close' and never
// 'drain' nor 'error'. Connect-ES's Node adapter waits for one of those two
// between the messages of a server stream (universalResponseToNodeResponse's
// write()), so such a call would hang for ever: its handler suspended at a
// yield, its file open, its access-log line never written. A 'drain' on a
// premature close lets that write finish; the next write on the closed
// response then fails, Connect hands the failure to the handler, and the
// call ends as cancelled (interceptors/errors.ts).

/** `res` (an HTTP/1.1 or HTTP/2 server response), whose pending write is released when its client goes away. */
export function unblockWritesOnClose<R extends NodeJS.EventEmitter & { readonly writableEnded: boolean }>(res: R): R {
  res.once("close", () => {
    const ended = (res as { writableFinished?: boolean }).writableFinished ?? res.writableEnded;
    if (!ended) res.emit("drain");
  });
  return res;
}
