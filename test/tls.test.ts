// TLS end to end: the real server process with TLS_CERT_FILE/TLS_KEY_FILE
// and a certificate made with openssl; the SDK over Connect, gRPC and
// gRPC-Web trusting it through `tls.ca`, files moved over https signed
// URLs, `buf curl --cacert` through reflection, HTTP/1.1 and HTTP/2 chosen
// by ALPN, and a bad setting refused at start.
import { execFile, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as http2 from "node:http2";
import * as https from "node:https";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { promisify } from "node:util";
import { createRegistryClient, type RegistryClient } from "@modelreg/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeSelfSignedCert, opensslMissing } from "./support/tls-cert.js";
import { REPO_ROOT, SERVER_ARGS, startServer, type ServerProcess, tempDir } from "./support/server.js";

const run = promisify(execFile);
const buf = join(REPO_ROOT, "node_modules/.bin/buf");
const skip = opensslMissing();
const KEY = () => process.env.MODELREG_ACCESS_KEY!;

describe.skipIf(skip !== "")(`TLS${skip}`, () => {
  const dir = tempDir("modelreg-tls-");
  let cert: ReturnType<typeof makeSelfSignedCert>;
  let server: ServerProcess;

  beforeAll(async () => {
    cert = makeSelfSignedCert(dir.path);
    server = await startServer({ env: { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile } });
  });
  afterAll(async () => {
    await server?.stop();
    dir.remove();
  });

  const client = (protocol: "connect" | "grpc" | "grpc-web", httpVersion: "1.1" | "2" = "2"): RegistryClient =>
    createRegistryClient({ baseUrl: server.url, protocol, httpVersion, tls: { ca: cert.cert } });

  it("serves the SDK over Connect, gRPC and gRPC-Web, on HTTP/2 and HTTP/1.1", async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await client("connect").models.createModel({ parent: "workspaces/default", modelId: "secure" });
    const cases = [client("connect"), client("grpc"), client("grpc-web"), client("connect", "1.1"), client("grpc-web", "1.1")];
    for (const c of cases) expect((await c.models.getModel({ name: "workspaces/default/models/secure" })).model!.name).toBe("workspaces/default/models/secure");
    // A client that does not trust the certificate is told why.
    const untrusted = await createRegistryClient({ baseUrl: server.url }).models.listModels({ parent: "workspaces/default" }).catch((e: unknown) => e);
    expect(String(untrusted)).toMatch(/self[- ]signed certificate/i);
  });

  it("trusts NODE_EXTRA_CA_CERTS beside tls.ca (Node's own ca option would drop it)", async () => {
    const other = tempDir("modelreg-tls-other-");
    const saved = process.env.NODE_EXTRA_CA_CERTS;
    try {
      const unrelated = makeSelfSignedCert(other.path);
      process.env.NODE_EXTRA_CA_CERTS = cert.certFile; // the server's, as an operator would set it
      const registry = createRegistryClient({ baseUrl: server.url, tls: { ca: unrelated.cert } });
      expect((await registry.models.listModels({ parent: "workspaces/default" })).models).toBeInstanceOf(Array);
    } finally {
      if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
      else process.env.NODE_EXTRA_CA_CERTS = saved;
      other.remove();
    }
  });

  it("uploads and downloads files over https signed URLs", async () => {
    const registry = client("connect");
    const { model } = await registry.models.createModel({ parent: "workspaces/default", modelId: "secure-files" });
    const { version } = await registry.versions.createVersion({ parent: model!.name });
    const file = join(dir.path, "weights.bin");
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(file, bytes);
    await registry.uploadFile(version!.name, file, { transport: "http" });
    const [listed] = (await registry.files.listVersionFiles({ version: { case: "name", value: version!.name } })).files;
    expect(listed!.downloadUrl).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${server.port}/v1/blobs/`));

    const target = join(dir.path, "back.bin");
    const got = await registry.downloadToFile(version!.name, "weights.bin", target, { transport: "http" });
    expect(got.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(readFileSync(target).equals(bytes)).toBe(true);
    // The byte streams (their own HTTP/2 connection) trust the same certificate.
    const streamed = await registry.downloadBytes(version!.name, "weights.bin", { transport: "stream" });
    expect(Buffer.from(streamed).equals(bytes)).toBe(true);
    // The signed URL works for any HTTPS client that trusts the certificate, with no key.
    const head = await request(listed!.downloadUrl, { method: "GET", headers: { range: "bytes=0-9" } });
    expect(head.status).toBe(206);
    expect(head.body.equals(bytes.subarray(0, 10))).toBe(true);
  });

  it("lets buf curl --cacert list and call methods through reflection over https", async () => {
    const bare = ["curl", "--cacert", cert.certFile, "--protocol", "grpc"];
    const methods = await run(buf, [...bare, "--list-methods", server.url]);
    expect(methods.stdout).toContain("modelreg.v1.ModelService/ListModels");
    const auth = ["-H", `Authorization: Bearer ${KEY()}`];
    const created = await run(buf, [...bare, ...auth, "-d", JSON.stringify({ parent: "workspaces/default", modelId: "via-buf-tls" }), `${server.url}/modelreg.v1.ModelService/CreateModel`]);
    expect(JSON.parse(created.stdout).model.name).toBe("workspaces/default/models/via-buf-tls");
    const got = await run(buf, [...bare, ...auth, "-d", JSON.stringify({ name: "workspaces/default/models/via-buf-tls" }), `${server.url}/modelreg.v1.ModelService/GetModel`]);
    expect(JSON.parse(got.stdout).model.name).toBe("workspaces/default/models/via-buf-tls");
    // Without the certificate, buf refuses the server (it says only "unavailable").
    const refused = await run(buf, ["curl", "--protocol", "grpc", "--list-methods", server.url]).then(
      () => "listed",
      (e: { code: number }) => e.code,
    );
    expect(refused).not.toBe("listed");
  });

  it("chooses HTTP/1.1 or HTTP/2 by ALPN", async () => {
    const body = JSON.stringify({ parent: "workspaces/default" });
    const headers = { "content-type": "application/json", authorization: `Bearer ${KEY()}` };
    const h1 = await request(`${server.url}/modelreg.v1.ModelService/ListModels`, { method: "POST", headers, ALPNProtocols: ["http/1.1"] }, body);
    expect(h1).toMatchObject({ status: 200, alpn: "http/1.1", httpVersion: "1.1" });
    expect(h1.body.toString()).toMatch(/^\{/);

    const session = http2.connect(server.url, { ca: cert.cert });
    try {
      const h2 = await new Promise<{ status: unknown; body: string }>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": "/modelreg.v1.ModelService/ListModels", ...headers });
        let text = "";
        let status: unknown;
        stream.on("response", (h) => (status = h[":status"]));
        stream.setEncoding("utf8").on("data", (d: string) => (text += d));
        stream.on("end", () => resolve({ status, body: text }));
        stream.on("error", reject);
        stream.end(body);
      });
      expect(h2.status).toBe(200);
      expect(session.alpnProtocol).toBe("h2");
      expect(h2.body).toMatch(/^\{/);
    } finally {
      session.close();
    }
  });

  it("refuses to start with a bad TLS setting, saying what is wrong", () => {
    const start = (env: Record<string, string>) =>
      spawnSync(process.execPath, SERVER_ARGS, { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, PORT: "0", DATA_DIR: dir.path, ...env }, timeout: 60_000 });
    const half = start({ TLS_CERT_FILE: cert.certFile });
    expect(half.status).toBe(2);
    expect(half.stdout + half.stderr).toContain("TLS_CERT_FILE is set but TLS_KEY_FILE is not: set both to serve HTTPS, or neither for cleartext");
    const swapped = start({ TLS_CERT_FILE: cert.keyFile, TLS_KEY_FILE: cert.certFile });
    expect(swapped.status).toBe(2);
    expect(swapped.stdout + swapped.stderr).toContain(`TLS_CERT_FILE=${cert.keyFile} is not a PEM certificate`);
    const missing = join(dir.path, "missing.pem");
    const absent = start({ TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: missing });
    expect(absent.status).toBe(2);
    expect(absent.stdout + absent.stderr).toContain(`TLS_KEY_FILE=${missing} cannot be read: no such file`);
  });

  /** One HTTPS/1.1 request trusting the test's certificate. */
  function request(url: string, options: https.RequestOptions & { ALPNProtocols?: string[] }, body?: string) {
    return new Promise<{ status: number; body: Buffer; alpn: string | false | null; httpVersion: string }>((resolve, reject) => {
      const req = https.request(url, { ...options, ca: cert.cert, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), alpn: (res.socket as TLSSocket).alpnProtocol, httpVersion: res.httpVersion }),
        );
      });
      req.on("error", reject);
      req.end(body);
    });
  }
});
