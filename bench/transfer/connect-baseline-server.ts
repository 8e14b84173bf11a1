// Baseline B of `bench transfer`: a bare Connect-ES v2 server
// (connectNodeAdapter over node:http2, cleartext h2c, compression off)
// implementing only modelreg.v1.FileService's two streaming methods, on the
// real generated descriptor so messages have modelreg's shapes:
//   WriteUpload (client stream): `name` of the first message names the
//     file; every message's data goes through sha256 into a new file in
//     DATA_DIR (./kept-files.ts: every upload is kept, as modelreg keeps each
//     blob); then fsync; answers the digest and size.
//     The digest is kept (in memory) for ReadFile.
//   ReadFile (server stream): `path` names the file (its latest upload); served as
//     modelreg's ReadFile does (apps/server/src/services/file-streams.ts over
//     storage/fs-reads.ts): read through the open handle in 1 MiB reads, one
//     1 MiB message per read, no hashing while sending; the first message
//     carries the file (name, size and the stored sha256).
// No auth, database, sessions or offsets. Env: PORT, HOST (127.0.0.1), DATA_DIR.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { FileService, ReadFileResponseSchema, UploadState, WriteUploadResponseSchema } from "@modelreg/proto";
import { keptFiles } from "./kept-files.js";

const dataDir = process.env.DATA_DIR;
if (!dataDir) throw new Error("connect-baseline-server needs DATA_DIR");
/** modelreg's READ_CHUNK_BYTES, and its blob store's read size. */
const CHUNK = 1 << 20;
/** Each WriteUpload's file and its sha256 (hex). */
const files = keptFiles(dataDir);

function newFile(name: string): string {
  if (!files.takes(name)) throw new ConnectError(`bad file name ${JSON.stringify(name)}`, Code.InvalidArgument);
  return files.next(name);
}

const handler = connectNodeAdapter({
  acceptCompression: [],
  routes(router) {
    router.service(FileService, {
      async writeUpload(reqs) {
        const hash = createHash("sha256");
        let fh: Awaited<ReturnType<typeof open>> | undefined;
        let name = "";
        let path = "";
        let size = 0;
        try {
          for await (const req of reqs) {
            if (!fh) {
              name = req.name;
              path = newFile(name);
              fh = await open(path, "w");
            }
            hash.update(req.data);
            await fh.write(req.data, 0, req.data.byteLength, size);
            size += req.data.byteLength;
          }
          if (!fh) throw new ConnectError("empty stream", Code.InvalidArgument);
          await fh.sync();
        } finally {
          await fh?.close();
        }
        const sha256 = hash.digest("hex");
        files.stored(name, { path, sha256 });
        return create(WriteUploadResponseSchema, {
          upload: { name, sha256, sizeBytes: BigInt(size), committedOffset: BigInt(size), state: UploadState.COMPLETE },
        });
      },
      async *readFile(req) {
        const file = files.latest(req.path);
        if (!file) throw new ConnectError(`${req.path} was not stored by a WriteUpload to this server`, Code.NotFound);
        const { path, sha256 } = file;
        const fh = await open(path, "r");
        const { size } = await fh.stat().catch(async (err: unknown) => {
          await fh.close();
          throw err;
        });
        const stream = fh.createReadStream({ autoClose: true, highWaterMark: CHUNK });
        let pos = 0;
        try {
          for await (const data of stream as AsyncIterable<Buffer>) {
            yield create(ReadFileResponseSchema, {
              file: pos === 0 ? { path: req.path, sizeBytes: BigInt(size), sha256 } : undefined,
              offset: BigInt(pos),
              data,
            });
            pos += data.length;
          }
          if (pos === 0) yield create(ReadFileResponseSchema, { file: { path: req.path, sizeBytes: 0n, sha256 }, offset: 0n });
        } finally {
          stream.destroy();
        }
      },
    });
  },
});

const server = http2.createServer(handler);
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  const address = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ level: 30, url: address, msg: `connect baseline listening on ${address}` })}\n`);
});

const stop = () => {
  server.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
