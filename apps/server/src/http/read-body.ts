// A request body read whole, up to a bound: what Connect's unary handlers
// do with a body anyway. Past the bound, the caller gets what was read and
// the rest as it comes, to hand on to Connect, which refuses it in its words.
// And the one envelope such a body may hold.

export type BodyRead = { bytes: Uint8Array; over?: undefined } | { over: AsyncIterable<Uint8Array> };

/** Reads `body` into one array, unless it passes `limit` bytes: then `over` yields every byte of it, those read first. */
export async function readBody(body: AsyncIterable<Uint8Array>, limit: number): Promise<BodyRead> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let next = await it.next(); next.done !== true; next = await it.next()) {
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > limit) return { over: replay(chunks, it) };
  }
  return { bytes: concat(chunks, size) };
}

/** The one gRPC (or gRPC-Web) envelope `bytes` hold, when they hold exactly one: flags byte, 4-byte length, message. */
export function oneEnvelope(bytes: Uint8Array): { flags: number; data: Uint8Array } | undefined {
  if (bytes.byteLength < 5) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, 5).getUint32(1);
  return bytes.byteLength === 5 + length ? { flags: bytes[0]!, data: bytes.subarray(5) } : undefined;
}

async function* replay(read: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* read;
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
