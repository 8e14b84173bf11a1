// The access log of a real server process: one line at info for every
// call, with method, code, duration, key id, peer and request id; and a
// client that goes away in the middle of a transfer (a download over the
// signed GET dropped mid-body, a ReadFile stream cancelled, an upload PUT
// cut half-way) is logged as cancelled at info, with no warning and no
// error ("internal error ... a bug in modelreg", "database unavailable").
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import { afterAll, expect, it } from "vitest";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { createRegistryClient } from "@modelreg/sdk";
import { startServer, type ServerProcess } from "./support/server.js";
import { E2E_ADMIN_TOKEN } from "./support/setup.js";
import { until } from "./support/until.js";

const MiB = 1024 * 1024;
const KEY_ID = E2E_ADMIN_TOKEN.split(".")[0];

describeEachDatabase("a client that goes away", (backend) => {
  let server: ServerProcess | undefined;
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("is logged as cancelled at info, never as an error; every call has its info line", async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    server = await startServer({ databaseUrl: db?.url });
    const started = server.output.length;
    const lines = () => server!.output.slice(started).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    const logged = (match: Record<string, unknown>) => lines().find((l) => Object.entries(match).every(([k, v]) => l[k] === v));
    const client = createRegistryClient({ baseUrl: server.url });

    // A read that succeeds: info, with everything an operator needs.
    await client.models.createModel({ parent: "workspaces/default", modelId: "big" });
    await client.models.getModel({ name: "workspaces/default/models/big" }, { headers: { "x-request-id": "read-1" } });
    await until(() => logged({ requestId: "read-1" }) !== undefined, "GetModel's line");
    expect(logged({ requestId: "read-1" })).toEqual(
      expect.objectContaining({ level: 30, msg: "call", rpc: "modelreg.v1.ModelService/GetModel", code: "ok", keyId: KEY_ID, peer: expect.stringMatching(/127\.0\.0\.1/), ms: expect.any(Number) }),
    );

    const data = randomBytes(64 * MiB);
    const sha256 = createHash("sha256").update(data).digest("hex");
    const stage = async () => {
      const { version } = await client.versions.createVersion({ parent: "workspaces/default/models/big" });
      const staged = await client.files.stageVersionFiles({ name: version!.name, files: [{ path: "w.bin", sizeBytes: BigInt(data.length), sha256 }] });
      return { name: version!.name, upload: staged.files[0]!.upload! };
    };

    // An upload PUT cut half-way: the client destroys its socket after 32 MiB are on their way.
    const cut = await stage();
    const cutPath = new URL(cut.upload.uploadUrl).pathname;
    await new Promise<void>((resolve) => {
      const req = http.request(cut.upload.uploadUrl, {
        method: "PUT",
        headers: { "content-range": `bytes 0-${data.length - 1}/${data.length}`, "content-length": String(data.length) },
      });
      req.on("error", () => resolve());
      req.on("response", () => resolve());
      req.write(data.subarray(0, 32 * MiB), () => req.destroy());
    });
    await until(() => logged({ msg: "http", path: cutPath }) !== undefined, "the cut upload's line");
    expect(logged({ msg: "http", path: cutPath })).toEqual(expect.objectContaining({ level: 30, method: "PUT", code: "canceled", status: 499, keyId: KEY_ID }));

    // The whole file, then a download over the signed GET dropped after 4 MiB.
    const whole = await stage();
    const put = await fetch(whole.upload.uploadUrl, { method: "PUT", body: data, headers: { "content-range": `bytes 0-${data.length - 1}/${data.length}` } });
    expect(put.status).toBe(200);
    await client.files.commitVersionFiles({ name: whole.name });
    const [file] = (await client.files.listVersionFiles({ version: { case: "name", value: whole.name } })).files;
    const blobPath = new URL(file!.downloadUrl).pathname;
    await new Promise<void>((resolve, reject) => {
      http
        .get(file!.downloadUrl, (res) => {
          let n = 0;
          res.on("data", (c: Buffer) => {
            n += c.length;
            if (n >= 4 * MiB) {
              res.socket.destroy();
              resolve();
            }
          });
        })
        .on("error", reject);
    });
    await until(() => logged({ msg: "http", path: blobPath, method: "GET" }) !== undefined, "the dropped download's line");
    expect(logged({ msg: "http", path: blobPath, method: "GET" })).toEqual(expect.objectContaining({ level: 30, code: "canceled", status: 499 }));

    // The FileService stream of the same file, cancelled after 4 MiB, over gRPC and Connect.
    for (const protocol of ["grpc", "connect"] as const) {
      const reader = createRegistryClient({ baseUrl: server.url, protocol });
      const stop = new AbortController();
      const requestId = `read-file-${protocol}`;
      let n = 0;
      await expect(
        (async () => {
          for await (const m of reader.files.readFile({ version: { case: "name", value: whole.name }, path: "w.bin" }, { signal: stop.signal, headers: { "x-request-id": requestId } })) {
            n += m.data.length;
            if (n >= 4 * MiB) stop.abort();
          }
        })(),
      ).rejects.toThrow();
      await until(() => logged({ requestId }) !== undefined, `ReadFile's line (${protocol})`);
      expect(logged({ requestId })).toEqual(expect.objectContaining({ level: 30, rpc: "modelreg.v1.FileService/ReadFile", code: "canceled", keyId: KEY_ID }));
    }

    // Nothing was a warning or an error: no "internal error", no "database unavailable".
    const alarms = lines().filter((l) => (l.level as number) >= 40);
    expect(alarms, JSON.stringify(alarms, null, 1)).toEqual([]);
    // The server serves on, and the cut upload resumes from what it kept.
    const session = await client.files.getUploadSession({ name: cut.upload.name });
    expect(session.upload!.committedOffset).toBeLessThanOrEqual(BigInt(32 * MiB));
  });
});
