// The server's auth settings end to end: the admin key made at first start,
// AUTH=off, per-key rate limits, and the message size limit that refuses a
// body before reading it.
import { readFileSync, statSync } from "node:fs";
import * as http from "node:http";
import { join } from "node:path";
import { Code, ConnectError, createRegistryClient, RetryInfoSchema } from "@modelreg/sdk";
import { expect, it } from "vitest";
import { startServer, tempDir } from "./support/server.js";

it("creates a server-wide admin key at the first start, in DATA_DIR/admin.key (0600), and only once", async () => {
  const dir = tempDir();
  try {
    const first = await startServer({ dataDir: dir.path, env: { MODELREG_ADMIN_KEY: "" } });
    const file = join(dir.path, "admin.key");
    const token = readFileSync(file, "utf8").trim();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(token).toMatch(/^AK[A-Z2-7]{16}\.[A-Za-z0-9_-]{43}$/);
    const out = first.output.join("\n");
    expect(out).toContain("created the server-wide admin key");
    // stderr is not a terminal here, so the secret itself is not printed.
    expect(out).not.toContain(token.split(".")[1]);
    const client = createRegistryClient({ baseUrl: first.url, accessKey: token });
    const me = await client.workspaces.getServerInfo({});
    expect(me).toMatchObject({ user: "admin", workspace: "", authEnabled: true, database: "pglite" });
    await first.stop();

    const second = await startServer({ dataDir: dir.path, env: { MODELREG_ADMIN_KEY: "" } });
    expect(readFileSync(file, "utf8").trim()).toBe(token);
    expect(second.output.join("\n")).not.toContain("created the server-wide admin key");
    expect((await createRegistryClient({ baseUrl: second.url, accessKey: token }).workspaces.getServerInfo({})).user).toBe("admin");
    await second.stop();
  } finally {
    dir.remove();
  }
});

it("with AUTH=off needs no key and says so loudly", async () => {
  const server = await startServer({ env: { AUTH: "off" } });
  try {
    expect(server.output.join("\n")).toMatch(/AUTH=off: EVERY CALL IS ALLOWED WITHOUT A KEY/);
    const client = createRegistryClient({ baseUrl: server.url, accessKey: "" });
    expect((await client.workspaces.getServerInfo({})).authEnabled).toBe(false);
    await client.models.createModel({ parent: "workspaces/default", modelId: "open" });
  } finally {
    await server.stop();
  }
});

it("limits each key's request rate with ResourceExhausted and a retry hint", async () => {
  const server = await startServer({ env: { RATE_LIMIT_PER_KEY: "1", RATE_LIMIT_BURST: "5" } });
  try {
    const client = createRegistryClient({ baseUrl: server.url });
    // The bucket refills at 1/s while the 20 calls are served, so what may
    // pass is the burst plus one per second they took, however long that is.
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.models.listModels({ parent: "workspaces/default" })));
    const seconds = (performance.now() - started) / 1000;
    const passed = results.filter((r) => r.status === "fulfilled").length;
    const refused = results.filter((r) => r.status === "rejected").map((r) => ConnectError.from((r as PromiseRejectedResult).reason));
    expect(passed).toBeGreaterThanOrEqual(5);
    expect(passed).toBeLessThanOrEqual(5 + Math.ceil(seconds));
    expect(refused.length).toBe(20 - passed);
    for (const e of refused) expect(e.code).toBe(Code.ResourceExhausted);
    // Only a machine that took 15 s for 20 calls refuses none; then there is nothing more to check.
    if (refused.length === 0) return;
    expect(refused[0]!.message).toMatch(/exceeded 1 requests\/s; retry after \d+ ms/);
    const retry = refused[0]!.findDetails(RetryInfoSchema)[0];
    expect(retry?.retryDelay).toBeDefined();
    // Each hint is at most the time one token takes to come back (1 s at 1/s); after that long, calls go through again.
    for (const e of refused) {
      const d = e.findDetails(RetryInfoSchema)[0]!.retryDelay!;
      const ms = Number(d.seconds) * 1000 + d.nanos / 1e6;
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThanOrEqual(1000);
    }
    await new Promise((r) => setTimeout(r, 1050));
    await client.models.listModels({ parent: "workspaces/default" });
  } finally {
    await server.stop();
  }
});

it("refuses a request larger than MAX_MESSAGE_BYTES before reading its body", async () => {
  const server = await startServer({ env: { MAX_MESSAGE_BYTES: "2048" } });
  try {
    const url = new URL(`${server.url}/modelreg.v1.ModelService/CreateModel`);
    // Declare 50 MB, send 10 bytes, and never more: the answer must still come.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": String(50 * 1024 * 1024), authorization: `Bearer ${process.env.MODELREG_ACCESS_KEY}` },
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8").on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.write('{"parent":');
      // A server that waited for the body would never answer: give it far longer than an answer takes on a busy machine.
      setTimeout(() => reject(new Error("no answer within 60 s: the server waited for the body")), 60_000).unref();
    });
    expect(answer.status).toBe(429);
    expect(JSON.parse(answer.body)).toMatchObject({ code: "resource_exhausted" });
  } finally {
    await server.stop();
  }
});
