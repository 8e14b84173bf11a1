// HTTP/2 floods: one connection opening thousands of streams at once, and
// many streams whose request body never finishes. The server bounds the
// streams of a connection (refused beyond HTTP2_MAX_CONCURRENT_STREAMS),
// cuts request bodies that stall (REQUEST_BODY_TIMEOUT_MS) while uploads
// that keep sending run as long as they need, gives its memory back after a
// flood, and keeps answering GetVersion on another connection throughout.
// Attackers connect from 127.0.0.2, the prober from 127.0.0.1.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GetVersionRequestSchema } from "@modelreg/proto";
import { createRegistryClient, UploadState } from "@modelreg/sdk";
import { createEmptyPostgres } from "@modelreg/db/testing";
import { afterEach, expect, it } from "vitest";
import { printReport, startProbing } from "./support/prober.js";
import { connectRawH2, grpcEnvelope, H2_ERROR, type RawH2, requestFrames } from "./support/raw-h2.js";
import { startServer, type ServerProcess } from "./support/server.js";
import { sleep, until } from "./support/until.js";

let server: ServerProcess | undefined;
let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await server?.stop();
  server = undefined;
  await db?.drop();
  db = undefined;
});


/** The server process's resident memory, in MB (Linux). */
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) / 1024;
}

async function setUp(env: Record<string, string> = {}) {
  // On PostgreSQL when DATABASE_URL is set, else the embedded database: the limits are the same on both.
  db = process.env.DATABASE_URL ? await createEmptyPostgres() : undefined;
  server = await startServer({ databaseUrl: db?.url, env });
  const admin = createRegistryClient({ baseUrl: server.url });
  await admin.models.createModel({ parent: "workspaces/default", modelId: "target" });
  const { version } = await admin.versions.createVersion({ parent: "workspaces/default/models/target" });
  const name = version!.name;
  // The legitimate caller: its own HTTP/2 connection.
  const probe = createRegistryClient({ baseUrl: server.url, transport: createGrpcTransport({ baseUrl: server.url }) });
  const getVersion = () => probe.versions.getVersion({ ref: { case: "name", value: name } });
  return { server, admin, name, getVersion };
}

function getVersionHeaders(authority: string): [string, string][] {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", "/modelreg.v1.VersionService/GetVersion"],
    [":authority", authority],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
  ];
}

it("refuses streams beyond HTTP2_MAX_CONCURRENT_STREAMS on one connection, keeps answering another, and gives the memory back", async () => {
  const { server, name, getVersion } = await setUp({ HTTP2_MAX_CONCURRENT_STREAMS: "100" });
  for (let i = 0; i < 20; i++) await getVersion(); // warm up before measuring
  const rssBefore = rssMb(server.child.pid!);

  const prober = startProbing(server.url, name, "h2");
  // 20,000 complete GetVersion requests (no key) in one write, ignoring the
  // server's stream limit; again on a new connection until the prober has
  // made enough calls for a percentile.
  const streams = 20_000;
  const body = grpcEnvelope(toBinary(GetVersionRequestSchema, create(GetVersionRequestSchema, { ref: { case: "name", value: name } })));
  const frames = requestFrames(getVersionHeaders(`127.0.0.1:${server.port}`), body, streams);
  const rounds: { raw: RawH2; closedByServer: boolean }[] = [];
  for (let round = 0; round < 40 && (round === 0 || prober.calls < 200); round++) {
    const raw = await connectRawH2(server.port, { localAddress: "127.0.0.2" });
    cleanups.push(() => raw.socket.destroy());
    await raw.ready;
    raw.write(frames);
    const resets = () => [...raw.resets.values()].reduce((a, b) => a + b, 0);
    let closed = false;
    void raw.closed.then(() => (closed = true));
    await until(() => closed || raw.responses.size + resets() >= streams, "every stream answered or refused, or the connection closed");
    rounds.push({ raw, closedByServer: closed });
    raw.socket.destroy();
  }
  const report = await prober.stop();
  printReport(`${rounds.length} HTTP/2 connections one after another, each opening ${streams} streams at once`, report);

  // Refusing takes one of three forms, depending on how far the server got
  // when Node's own flood guard (too many refused streams) tripped: streams
  // reset as refused, a GOAWAY, or the connection closed without one.
  for (const { raw, closedByServer } of rounds) {
    const refused = (raw.resets.get(H2_ERROR.REFUSED_STREAM) ?? 0) + (raw.resets.get(H2_ERROR.ENHANCE_YOUR_CALM) ?? 0);
    const how = `resets ${JSON.stringify([...raw.resets])}, goaway ${JSON.stringify(raw.goaway)}, closed by the server ${closedByServer}`;
    expect(refused > 0 || raw.goaway !== undefined || closedByServer, how).toBe(true);
    expect(raw.responses.size).toBeLessThan(streams);
  }
  const first = rounds[0]!;
  console.info(`[flood] first connection: ${first.raw.responses.size} answered, resets ${JSON.stringify([...first.raw.resets])}, goaway ${JSON.stringify(first.raw.goaway)}, closed by the server ${first.closedByServer}`);
  expect(report.failures).toBe(0);
  expect(report.p99Ms).toBeLessThan(5000); // catches a stall, not a timing target

  await getVersion(); // the server is still there
  const rssAfter = rssMb(server.child.pid!);
  console.info(`[RSS] before ${rssBefore.toFixed(0)} MB, after the flood ${rssAfter.toFixed(0)} MB`);
  // A generous bound: it catches memory that grows with the flood and stays.
  expect(rssAfter - rssBefore).toBeLessThan(150);
});

/** 20 HTTP/2 connections x 50 streams, each sending 3 of the 5 bytes of a gRPC message header, and 50 HTTP/1.1 requests that announce 100 bytes and send 10; all from 127.0.0.2, none ever finished. */
function unfinishedRequests(port: number) {
  const streamCodes: number[] = [];
  const h1Answers: string[] = [];
  const open: { destroy(): void }[] = [];
  for (let c = 0; c < 20; c++) {
    const session = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.2" }) });
    session.on("error", () => {});
    open.push(session);
    for (let s = 0; s < 50; s++) {
      const stream = session.request(
        { ":method": "POST", ":path": "/modelreg.v1.VersionService/GetVersion", "content-type": "application/grpc", te: "trailers" },
        { endStream: false },
      );
      stream.on("error", () => {});
      stream.on("close", () => streamCodes.push(stream.rstCode ?? -1));
      stream.resume();
      stream.write(Buffer.from([0, 0, 0]));
    }
  }
  for (let i = 0; i < 50; i++) {
    const socket = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.2" });
    open.push(socket);
    socket.on("error", () => {});
    let got = "";
    socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
    socket.on("close", () => h1Answers.push(got));
    socket.write("POST /modelreg.v1.VersionService/GetVersion HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n" + '{"name": "');
  }
  // Each round's connections go when it is over, so that rounds stay below the per-peer limit.
  cleanups.push(() => {
    for (const o of open) o.destroy();
  });
  return {
    streamCodes,
    h1Answers,
    done: () => streamCodes.length === 20 * 50 && h1Answers.length === 50,
    close: () => {
      for (const o of open) o.destroy();
    },
  };
}

it("closes unary requests whose body never finishes (HTTP/2 and HTTP/1.1), while GetVersion keeps answering", async () => {
  const { server, name } = await setUp({ REQUEST_BODY_TIMEOUT_MS: "1000" });
  const prober = startProbing(server.url, name, "h2");
  // Again and again, until the prober has made enough calls for a percentile.
  const rounds: ReturnType<typeof unfinishedRequests>[] = [];
  for (let round = 0; round < 20 && (round === 0 || prober.calls < 200); round++) {
    const attack = unfinishedRequests(server.port);
    rounds.push(attack);
    await until(attack.done, "every unfinished request closed by the server");
    attack.close();
  }
  const report = await prober.stop();
  printReport(`${rounds.length} rounds of 1,000 never-finished unary HTTP/2 streams on 20 connections and 50 HTTP/1.1 requests`, report);
  for (const attack of rounds) {
    expect(new Set(attack.streamCodes)).toEqual(new Set([http2.constants.NGHTTP2_CANCEL]));
    expect(attack.h1Answers.every((a) => a.startsWith("HTTP/1.1 408"))).toBe(true);
  }
  expect(report.failures).toBe(0);
  expect(report.p99Ms).toBeLessThan(5000); // catches a stall, not a timing target
});

it("lets uploads that keep sending run past REQUEST_BODY_TIMEOUT_MS (WriteUpload over HTTP/2, PUT over HTTP/1.1) and cuts one that stops", async () => {
  const { admin } = await setUp({ REQUEST_BODY_TIMEOUT_MS: "3000" });
  const chunk = 1024;
  const chunks = 50; // one every 150 ms: 2.5 times the timeout in all, a twentieth of it between bytes
  const files = ["streamed.bin", "put.bin", "stalled.bin"].map((path, i) => {
    const data = Buffer.alloc(chunk * chunks, i + 1);
    return { path, data, sha256: createHash("sha256").update(data).digest("hex") };
  });
  const { version } = await admin.versions.createVersion({ parent: "workspaces/default/models/target" });
  const staged = await admin.files.stageVersionFiles({
    name: version!.name,
    files: files.map((f) => ({ path: f.path, sizeBytes: BigInt(f.data.length), sha256: f.sha256 })),
  });
  const [streamed, put, stalled] = staged.files.map((f) => f.upload!);

  const slowly = async function* (data: Buffer, name: string, stopAfter = chunks) {
    for (let i = 0; i < stopAfter; i++) {
      yield { name: i === 0 ? name : "", offset: 0n, data: data.subarray(i * chunk, (i + 1) * chunk) };
      await sleep(150);
    }
    if (stopAfter < chunks) await new Promise(() => {}); // goes silent, never ends
  };
  const viaStream = admin.files.writeUpload(slowly(files[0]!.data, streamed!.name));
  const viaPut = new Promise<number>((resolve, reject) => {
    const req = http.request(put!.uploadUrl, { method: "PUT", headers: { "content-length": files[1]!.data.length } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    void (async () => {
      for (let i = 0; i < chunks; i++) {
        req.write(files[1]!.data.subarray(i * chunk, (i + 1) * chunk));
        await sleep(150);
      }
      req.end();
    })();
  });
  const viaStalled = admin.files.writeUpload(slowly(files[2]!.data, stalled!.name, 3)).then(
    () => "finished",
    (e: unknown) => `cut: ${String(e)}`,
  );

  expect((await viaStream).upload!.state).toBe(UploadState.COMPLETE);
  expect(await viaPut).toBe(200);
  expect(await viaStalled).toMatch(/^cut: /);
  const again = (await admin.files.getUploadSession({ name: stalled!.name })).upload!;
  expect(again.state).toBe(UploadState.ACTIVE);
});
