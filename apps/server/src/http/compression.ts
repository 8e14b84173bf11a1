// Response compression of the RPCs. Clients ask for gzip (the SDK does,
// except of a server on its own machine); Connect's own gzip compresses at
// zlib's default level 6. Level 1 keeps nearly all of the saving on the wire
// for much less CPU on list pages (measured in bench/search; figures in the
// issue notes); decompression is the same either way. Brotli stays accepted
// for clients that prefer it.
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import type { Compression } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";

const gzip = promisify(zlib.gzip);

const fastGzip: Compression = {
  name: "gzip",
  // zlib's Buffer sits on a plain ArrayBuffer, as Connect needs: no copy.
  compress: async (bytes) => (await gzip(bytes, { level: 1 })) as Uint8Array<ArrayBuffer>,
  decompress: (bytes, readMaxBytes) => compressionGzip.decompress(bytes, readMaxBytes),
};

/** What the server accepts and answers with, in its order of preference. */
export const RPC_COMPRESSION: Compression[] = [fastGzip, compressionBrotli];
