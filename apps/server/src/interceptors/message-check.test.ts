// Malformed binary request messages (cut short, a string that is not UTF-8)
// are the caller's mistake: InvalidArgument with a message naming the
// request type, in every protocol, and a line in the access log, through the
// real router served on a loopback port.
import * as http2 from "node:http2";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { createTestDatabase, type TestDatabase } from "@modelreg/db/testing";
import { CreateModelRequestSchema, GetVersionRequestSchema } from "@modelreg/proto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { ensureDefaultWorkspace } from "../domain/workspaces/index.js";
import { serve, type Server } from "../http/serve.js";
import { createTestStore, TEST_SIGNING_KEYS } from "../testing/test-store.js";
import { TEST_ADMIN_TOKEN } from "../testing/test-app.js";

const lines: Record<string, unknown>[] = [];
const logger = pino(
  { level: "info" },
  new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  }),
);
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

let db: TestDatabase;
let server: Server;
let removeStore: () => void | Promise<void>;
beforeAll(async () => {
  db = await createTestDatabase("pglite");
  await ensureDefaultWorkspace(db.db);
  const { store, remove } = createTestStore();
  removeStore = remove;
  const app = createApp({ db: db.db, logger, auth: { enabled: true, adminToken: TEST_ADMIN_TOKEN }, store, signingKeys: TEST_SIGNING_KEYS });
  server = await serve(app.handler, { port: 0, host: "127.0.0.1" });
}, 60_000);
afterAll(async () => {
  await server?.close(1000);
  await db?.close();
  await removeStore?.();
});

const valid = toBinary(CreateModelRequestSchema, create(CreateModelRequestSchema, { parent: "workspaces/default", modelId: "checked" }));
const truncated = valid.subarray(0, valid.length - 2);
/** Field 1 (parent), 2 bytes that are not UTF-8. */
const notUtf8 = Uint8Array.from([0x0a, 0x02, 0xff, 0xfe]);
const envelope = (message: Uint8Array, flags = 0) => {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
};

function callLine(requestId: string) {
  return lines.find((l) => l.msg === "call" && l.requestId === requestId);
}

/** One HTTP/2 request; its status, headers and trailers. */
function h2Request(path: string, headers: Record<string, string>, body: Uint8Array) {
  return new Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
    const session = http2.connect(server.url);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": path, te: "trailers", ...headers });
    let got: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => (got = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      resolve({ headers: got, trailers });
    });
    stream.resume();
    stream.end(body);
  });
}

describe("malformed binary request messages", () => {
  it("answers a Connect unary call InvalidArgument (HTTP 400), naming the request type, and logs it", async () => {
    for (const [label, body] of [
      ["truncated", truncated],
      ["not UTF-8", notUtf8],
    ] as const) {
      const requestId = `connect-${label.replace(/\W/g, "")}`;
      const res = await fetch(`${server.url}/modelreg.v1.ModelService/CreateModel`, {
        method: "POST",
        headers: { "content-type": "application/proto", "x-request-id": requestId, ...auth },
        body,
      });
      expect(res.status, label).toBe(400);
      const json = (await res.json()) as { code: string; message: string };
      expect(json.code).toBe("invalid_argument");
      expect(json.message).toMatch(/^the request body is not a valid modelreg\.v1\.CreateModelRequest message in the protobuf binary format \(.+\)/);
      expect(res.headers.get("x-request-id")).toBe(requestId);
      expect(callLine(requestId)).toMatchObject({ rpc: "modelreg.v1.ModelService/CreateModel", code: "invalid_argument" });
    }
    // A whole message still goes through.
    const ok = await fetch(`${server.url}/modelreg.v1.ModelService/CreateModel`, { method: "POST", headers: { "content-type": "application/proto", ...auth }, body: valid });
    expect(ok.status).toBe(200);
  });

  it("answers gRPC (plain and gzip-compressed) and gRPC-Web with status 3, and logs it", async () => {
    const grpc = await h2Request("/modelreg.v1.ModelService/CreateModel", { "content-type": "application/grpc", "x-request-id": "grpc-plain", ...auth }, envelope(notUtf8));
    expect(grpc.headers[":status"]).toBe(200);
    const status = grpc.trailers["grpc-status"] ?? grpc.headers["grpc-status"];
    const message = decodeURIComponent(String(grpc.trailers["grpc-message"] ?? grpc.headers["grpc-message"]));
    expect(status).toBe("3");
    expect(message).toMatch(/^the request body is not a valid modelreg\.v1\.CreateModelRequest message/);
    expect(callLine("grpc-plain")).toMatchObject({ rpc: "modelreg.v1.ModelService/CreateModel", code: "invalid_argument" });

    const gzipped = await h2Request(
      "/modelreg.v1.VersionService/GetVersion",
      { "content-type": "application/grpc+proto", "grpc-encoding": "gzip", "x-request-id": "grpc-gzip", ...auth },
      envelope(gzipSync(truncated), 1),
    );
    expect(gzipped.trailers["grpc-status"] ?? gzipped.headers["grpc-status"]).toBe("3");
    expect(callLine("grpc-gzip")).toMatchObject({ rpc: "modelreg.v1.VersionService/GetVersion", code: "invalid_argument" });

    const web = await fetch(`${server.url}/modelreg.v1.ModelService/CreateModel`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-request-id": "grpc-web", ...auth },
      body: envelope(truncated),
    });
    const text = Buffer.from(await web.arrayBuffer()).toString("latin1");
    expect(web.headers.get("grpc-status") ?? /grpc-status: ?(\d+)/.exec(text)?.[1]).toBe("3");
    expect(callLine("grpc-web")).toMatchObject({ code: "invalid_argument" });
  });

  it("answers a Connect GET whose query message is malformed InvalidArgument", async () => {
    const message = Buffer.from(toBinary(GetVersionRequestSchema, create(GetVersionRequestSchema, { ref: { case: "name", value: "workspaces/default/models/m/versions/1.0.0" } })))
      .subarray(0, 10)
      .toString("base64url");
    const res = await fetch(`${server.url}/modelreg.v1.VersionService/GetVersion?encoding=proto&base64=1&message=${message}`, { headers: { "x-request-id": "connect-get", ...auth } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    expect(callLine("connect-get")).toMatchObject({ rpc: "modelreg.v1.VersionService/GetVersion", code: "invalid_argument" });
  });

  it("answers a client stream (WriteUpload) with a malformed message InvalidArgument, and logs it", async () => {
    const res = await h2Request("/modelreg.v1.FileService/WriteUpload", { "content-type": "application/grpc", "x-request-id": "stream", ...auth }, envelope(notUtf8));
    expect(res.trailers["grpc-status"] ?? res.headers["grpc-status"]).toBe("3");
    expect(decodeURIComponent(String(res.trailers["grpc-message"] ?? res.headers["grpc-message"]))).toMatch(
      /^the request body is not a valid modelreg\.v1\.WriteUploadRequest message/,
    );
    expect(callLine("stream")).toMatchObject({ rpc: "modelreg.v1.FileService/WriteUpload", code: "invalid_argument" });
  });
});
