// Baseline A of `bench transfer`: a bare node:http server that stores and
// serves files, with the work any file server has to do and nothing else.
//   PUT /files/<name>  streams the body through sha256 into a new file in
//                      DATA_DIR (./kept-files.ts: every upload is kept, as
//                      modelreg keeps each blob), fsyncs, answers
//                      {"sha256": "...", "sizeBytes": n}, and keeps the
//                      digest (in memory) to serve with GET.
//   GET /files/<name>  serves the name's latest upload as modelreg's byte route does
//                      (apps/server/src/http/download-route.ts, storage/fs-reads.ts):
//                      the stored digest as etag and repr-digest, no hashing
//                      while sending; read through the open handle in 1 MiB
//                      reads, through a pass-through that counts the bytes
//                      (modelreg's countingStream), into the response.
// No auth, database, ranges, resumability or verification against a declared
// digest. Env: PORT, HOST (127.0.0.1), DATA_DIR, READ_CHUNK_BYTES (read
// stream highWaterMark, default 1 MiB as modelreg's).
import { createHash, type Hash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { keptFiles } from "./kept-files.js";

const dataDir = process.env.DATA_DIR;
if (!dataDir) throw new Error("http-baseline-server needs DATA_DIR");
const readChunk = process.env.READ_CHUNK_BYTES ? Number(process.env.READ_CHUNK_BYTES) : 1 << 20;
/** Each PUT's file, and its sha256 (hex): what GET sends, as modelreg sends its recorded digest. */
const files = keptFiles(dataDir);

/** A pass-through stream that feeds every chunk to `hash`. */
function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
}

function fail(res: http.ServerResponse, status: number, msg: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { "content-type": "text/plain" }).end(msg);
}

async function put(req: http.IncomingMessage, res: http.ServerResponse, name: string, path: string): Promise<void> {
  const hash = createHash("sha256");
  const fh = await open(path, "w");
  try {
    const out = createWriteStream("", { fd: fh.fd, autoClose: false });
    await pipeline(req, hashing(hash), out);
    await fh.sync();
    const { size } = await fh.stat();
    const sha256 = hash.digest("hex");
    files.stored(name, { path, sha256 });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sha256, sizeBytes: size }));
  } finally {
    await fh.close();
  }
}

/** Bytes sent by GETs, counted as modelreg's byte routes count them for their access log and metrics. */
const sent = { bytes: 0 };

/** A pass-through stream counting the bytes it passes into `sent` (modelreg's countingStream). */
function counting(): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent.bytes += chunk.length;
      cb(null, chunk);
    },
  });
}

async function get(res: http.ServerResponse, name: string): Promise<void> {
  const file = files.latest(name);
  if (!file) return fail(res, 404, "not stored by a PUT to this server");
  const { path, sha256 } = file;
  const fh = await open(path, "r");
  let size: number;
  try {
    ({ size } = await fh.stat());
  } catch (err) {
    await fh.close();
    throw err;
  }
  // modelreg's headers for a whole file (download-route.ts).
  res.writeHead(200, {
    etag: `"${sha256}"`,
    "accept-ranges": "bytes",
    "cache-control": "private, max-age=3600, immutable",
    "repr-digest": `sha-256=:${Buffer.from(sha256, "hex").toString("base64")}:`,
    "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    "content-type": "application/octet-stream",
    "content-length": size,
  });
  await pipeline(fh.createReadStream({ autoClose: true, highWaterMark: readChunk }), counting(), res);
}

const server = http.createServer((req, res) => {
  const name = /^\/files\/([^/]+)$/.exec(req.url ?? "")?.[1] ?? "";
  if (!files.takes(name)) return fail(res, 404, "not found");
  const done = req.method === "PUT" ? put(req, res, name, files.next(name)) : req.method === "GET" ? get(res, name) : Promise.resolve(fail(res, 405, "method not allowed"));
  done.catch((err: unknown) => fail(res, 500, String(err)));
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  const address = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ level: 30, url: address, msg: `http baseline listening on ${address}` })}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
