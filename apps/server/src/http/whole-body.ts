// An answer's body that is one array of bytes, known whole when the handler
// returns: an async iterable of that one chunk, as Connect's handlers
// answer, which the RPC adapter (./rpc-adapter.ts) writes at once instead of
// awaiting an async generator's two steps.
export class WholeBody implements AsyncIterable<Uint8Array> {
  constructor(readonly bytes: Uint8Array | undefined) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (this.bytes) yield this.bytes;
  }
}
