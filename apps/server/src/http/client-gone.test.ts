// A client that goes away mid-transfer, on every path the server has, with
// real sockets on loopback: the call's one access-log line says "canceled"
// at info, nothing is logged as a warning or an error, and a server stream
// whose client left while a write waited does not hang (its line is
// written). The process-level test is test/client-gone.test.ts.
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import * as http2 from "node:http2";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/test-app.js";

const MiB = 1024 * 1024;
const lines: Record<string, unknown>[] = [];
let t: TestServer;
let file: { name: string; downloadUrl: string };
const data = randomBytes(32 * MiB);
const sha256 = createHash("sha256").update(data).digest("hex");

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  t = await startTestServer("pglite", { logger: pino({ level: "debug" }, sink) });
  await t.client.models.createModel({ parent: "workspaces/default", modelId: "gone" });
  const { version } = await t.client.versions.createVersion({ parent: "workspaces/default/models/gone" });
  const staged = await t.client.files.stageVersionFiles({ name: version!.name, files: [{ path: "w.bin", sizeBytes: BigInt(data.length), sha256 }] });
  await fetch(staged.files[0]!.upload!.uploadUrl, { method: "PUT", body: data, headers: { "content-range": `bytes 0-${data.length - 1}/${data.length}` } });
  await t.client.files.commitVersionFiles({ name: version!.name });
  const [f] = (await t.client.files.listVersionFiles({ version: { case: "name", value: version!.name } })).files;
  file = { name: version!.name, downloadUrl: f!.downloadUrl };
}, 60_000);
afterAll(async () => t?.close());

async function lineOf(match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const hit = lines.find(match);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no such log line in:\n${lines.map((l) => JSON.stringify(l)).join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const alarms = () => lines.filter((l) => (l.level as number) >= 40);

it("a download over HTTP/2 whose stream is reset mid-body", async () => {
  const url = new URL(file.downloadUrl);
  const session = http2.connect(url.origin);
  await new Promise<void>((resolve) => {
    const req = session.request({ ":path": url.pathname + url.search });
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n >= 2 * MiB && !req.closed) {
        req.close(http2.constants.NGHTTP2_CANCEL);
        resolve();
      }
    });
  });
  session.close();
  expect(await lineOf((l) => l.msg === "http" && l.path === url.pathname)).toMatchObject({ level: 30, code: "canceled", status: 499 });
  expect(alarms()).toEqual([]);
});

it("a ReadFile stream cancelled over gRPC-Web", async () => {
  const stop = new AbortController();
  let n = 0;
  const reading = (async () => {
    for await (const m of t.clientWith(undefined, "grpc-web").files.readFile({ version: { case: "name", value: file.name }, path: "w.bin" }, { signal: stop.signal, headers: { "x-request-id": "rf-web" } })) {
      n += m.data.length;
      if (n >= 2 * MiB) stop.abort();
    }
  })();
  await expect(reading).rejects.toThrow();
  expect(await lineOf((l) => l.requestId === "rf-web")).toMatchObject({ level: 30, rpc: "modelreg.v1.FileService/ReadFile", code: "canceled" });
  expect(alarms()).toEqual([]);
});

it("a WriteUpload stream cancelled half-way", async () => {
  // Content not stored yet (stored content is never sent again).
  const other = randomBytes(16 * MiB);
  const { version } = await t.client.versions.createVersion({ parent: "workspaces/default/models/gone" });
  const staged = await t.client.files.stageVersionFiles({
    name: version!.name,
    files: [{ path: "w.bin", sizeBytes: BigInt(other.length), sha256: createHash("sha256").update(other).digest("hex") }],
  });
  const stop = new AbortController();
  const messages = (async function* () {
    yield { name: staged.files[0]!.upload!.name, offset: 0n, data: other.subarray(0, MiB) };
    for (let i = 1; i < 8; i++) yield { data: other.subarray(i * MiB, (i + 1) * MiB) };
    stop.abort();
    await new Promise(() => {}); // the client never finishes on its own
  })();
  await expect(t.clientWith(undefined, "grpc").files.writeUpload(messages, { signal: stop.signal, headers: { "x-request-id": "wu" } })).rejects.toThrow();
  expect(await lineOf((l) => l.requestId === "wu")).toMatchObject({ level: 30, rpc: "modelreg.v1.FileService/WriteUpload", code: "canceled" });
  expect(alarms()).toEqual([]);
});

it("a download over HTTP/1.1 whose connection drops mid-body", async () => {
  const path = new URL(file.downloadUrl).pathname;
  const before = lines.filter((l) => l.path === path).length;
  await new Promise<void>((resolve, reject) => {
    http
      .get(file.downloadUrl, (res) => {
        let n = 0;
        res.on("data", (c: Buffer) => {
          n += c.length;
          if (n >= 2 * MiB) {
            res.socket.destroy();
            resolve();
          }
        });
      })
      .on("error", reject);
  });
  await lineOf(() => lines.filter((l) => l.path === path).length > before);
  expect(lines.filter((l) => l.path === path).at(-1)).toMatchObject({ level: 30, code: "canceled", status: 499 });
  expect(alarms()).toEqual([]);
});
