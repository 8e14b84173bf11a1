// Baseline A of `bench transfer`: a bare node:http server that stores and
// serves files, with the work any file server has to do and nothing else.
//   PUT /files/<name>  streams the body through sha256 into DATA_DIR/<name>,
//                      fsyncs, answers {"sha256": "...", "sizeBytes": n}.
//   GET /files/<name>  streams DATA_DIR/<name> (Content-Length) through sha256.
// No auth, database, resumability or verification against a declared digest.
// Env: PORT, HOST (127.0.0.1), DATA_DIR, READ_CHUNK_BYTES (read stream
// highWaterMark, default Node's 64 KiB).
import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

const dataDir = process.env.DATA_DIR;
if (!dataDir) throw new Error("http-baseline-server needs DATA_DIR");
const readChunk = process.env.READ_CHUNK_BYTES ? Number(process.env.READ_CHUNK_BYTES) : undefined;

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

async function put(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
  const hash = createHash("sha256");
  const fh = await open(path, "w");
  try {
    const out = createWriteStream("", { fd: fh.fd, autoClose: false });
    await pipeline(req, hashing(hash), out);
    await fh.sync();
    const { size } = await fh.stat();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sha256: hash.digest("hex"), sizeBytes: size }));
  } finally {
    await fh.close();
  }
}

async function get(res: http.ServerResponse, path: string): Promise<void> {
  const { size } = await stat(path);
  const hash = createHash("sha256");
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
  await pipeline(createReadStream(path, readChunk ? { highWaterMark: readChunk } : {}), hashing(hash), res);
  hash.digest("hex"); // computed while sending, as a server verifying what it serves would
}

const server = http.createServer((req, res) => {
  const m = /^\/files\/([A-Za-z0-9._-]+)$/.exec(req.url ?? "");
  if (!m) return fail(res, 404, "not found");
  const path = join(dataDir, m[1]!);
  const done = req.method === "PUT" ? put(req, res, path) : req.method === "GET" ? get(res, path) : Promise.resolve(fail(res, 405, "method not allowed"));
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
