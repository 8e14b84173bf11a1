// A blob store that says when bulk bytes move through it: from the start of
// each read, write, append or commit until its stream closes or its promise
// settles. The server's heap policy (../heap-room.ts) gives the JavaScript
// heap less room while they do.
import type { Readable } from "node:stream";
import type { BlobStore } from "../domain/ports/blob-store.js";

/** `store`, with `started()` called as each bulk operation begins and the function it returns as that operation ends. */
export function markBulkActivity(store: BlobStore, started: () => () => void): BlobStore {
  const during = async <T>(work: () => Promise<T>): Promise<T> => {
    const done = started();
    try {
      return await work();
    } finally {
      done();
    }
  };
  return {
    ...store,
    put: (body, opts) => during(() => store.put(body, opts)),
    append: (id, offset, body, opts) => during(() => store.append(id, offset, body, opts)),
    commitStaging: (id, expectedSha256, opts) => during(() => store.commitStaging(id, expectedSha256, opts)),
    async get(sha256, range): Promise<Readable> {
      const done = started();
      try {
        const stream = await store.get(sha256, range);
        if (stream.closed || stream.destroyed) done();
        else stream.once("close", done);
        return stream;
      } catch (e) {
        done();
        throw e;
      }
    },
  };
}
