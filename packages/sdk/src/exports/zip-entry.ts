// A zip entry's bytes, read safely. yauzl forwards zlib's errors to the
// entry's stream with a bare emit("error") a tick after they happen: the
// stream is not marked errored, so a reader that starts iterating after that
// emit (the entry is opened, then the file to unpack into) would wait forever
// for data that never comes. And it can forward another error after the
// reader has stopped at the first, which with no listener crashes the process.
import type yauzl from "yauzl";

export type EntryStream = NodeJS.ReadableStream & AsyncIterable<Uint8Array>;

/**
 * Runs `read` on a zip entry's bytes. A listener for the stream's whole life
 * destroys it with the first error, so the error sticks (a reader that starts
 * late still gets it) and later ones are absorbed; destroying the stream when
 * done stops yauzl's forwarding.
 */
export async function withEntry<T>(zip: yauzl.ZipFile, entry: yauzl.Entry, read: (stream: EntryStream) => Promise<T>): Promise<T> {
  const stream = await zip.openReadStreamPromise(entry);
  stream.on("error", (err) => {
    if (!stream.destroyed) stream.destroy(err);
  });
  try {
    return await read(stream as EntryStream);
  } finally {
    stream.destroy();
  }
}
