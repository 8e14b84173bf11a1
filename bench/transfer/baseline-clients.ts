// The clients of `bench transfer`'s baselines, run in the bench process like
// the SDK calls they are compared with. Each returns the sha256 (hex) the
// server reported (upload) or the client computed (download), so the bench
// can check that the right bytes moved.
import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import * as http from "node:http";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { FileService } from "@modelreg/proto";

/** Message size of the Connect baseline, both ways. */
export const MESSAGE_BYTES = 1 << 20;

function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

/** Baseline A up: PUT the file as one streamed body (fs.createReadStream, Node's defaults). */
export async function httpUpload(baseUrl: string, name: string, src: string, sizeBytes: number): Promise<string> {
  const req = http.request(new URL(`/files/${name}`, baseUrl), {
    method: "PUT",
    headers: { "content-type": "application/octet-stream", "content-length": sizeBytes },
  });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => req.once("response", resolve).once("error", reject));
  await pipeline(createReadStream(src), req);
  const res = await response;
  const body = await readAll(res);
  if (res.statusCode !== 200) throw new Error(`PUT ${name}: ${res.statusCode} ${body}`);
  return (JSON.parse(body) as { sha256: string }).sha256;
}

/** Baseline A down: GET the file into `dst` through sha256. */
export async function httpDownload(baseUrl: string, name: string, dst: string): Promise<string> {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(new URL(`/files/${name}`, baseUrl), resolve).once("error", reject));
  if (res.statusCode !== 200) throw new Error(`GET ${name}: ${res.statusCode} ${await readAll(res)}`);
  const hash = createHash("sha256");
  await pipeline(res, hashing(hash), createWriteStream(dst));
  return hash.digest("hex");
}

/** A FileService client over one HTTP/2 connection, Connect protocol, no compression. */
export function connectClient(baseUrl: string) {
  const sessionManager = new Http2SessionManager(baseUrl);
  const transport = createConnectTransport({ baseUrl, httpVersion: "2", sessionManager, acceptCompression: [] });
  return { files: createClient(FileService, transport), close: () => sessionManager.abort() };
}

/** Baseline B up: WriteUpload with the file in 1 MiB messages. */
export async function connectUpload(baseUrl: string, name: string, src: string): Promise<string> {
  const c = connectClient(baseUrl);
  try {
    async function* messages() {
      const fh = await open(src, "r");
      try {
        for (let pos = 0; ; ) {
          const data = Buffer.allocUnsafe(MESSAGE_BYTES);
          const { bytesRead } = await fh.read(data, 0, MESSAGE_BYTES, pos);
          if (bytesRead === 0) break;
          yield { name: pos === 0 ? name : "", offset: BigInt(pos), data: data.subarray(0, bytesRead) };
          pos += bytesRead;
        }
      } finally {
        await fh.close();
      }
    }
    const { upload } = await c.files.writeUpload(messages());
    return upload?.sha256 ?? "";
  } finally {
    c.close();
  }
}

/** Baseline B down: ReadFile into `dst` through sha256. */
export async function connectDownload(baseUrl: string, name: string, dst: string): Promise<string> {
  const c = connectClient(baseUrl);
  const fh = await open(dst, "w");
  try {
    const hash = createHash("sha256");
    let pos = 0;
    for await (const msg of c.files.readFile({ path: name })) {
      hash.update(msg.data);
      await fh.write(msg.data, 0, msg.data.byteLength, pos);
      pos += msg.data.byteLength;
    }
    return hash.digest("hex");
  } finally {
    await fh.close();
    c.close();
  }
}
