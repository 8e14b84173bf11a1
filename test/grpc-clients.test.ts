// Clients that know nothing of modelreg's TypeScript: a plain gRPC client
// built from the generated descriptors, and `buf curl`, which learns the API
// from the server's reflection service alone.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ModelService, VersionService } from "@modelreg/proto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT, startServer, type ServerProcess } from "./support/server.js";

const run = promisify(execFile);
const buf = join(REPO_ROOT, "node_modules/.bin/buf");
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

it("serves a plain gRPC client (createGrpcTransport)", async () => {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${process.env.MODELREG_ACCESS_KEY}`);
    return next(req);
  };
  const transport = createGrpcTransport({ baseUrl: server.url, interceptors: [auth] });
  const models = createClient(ModelService, transport);
  const versions = createClient(VersionService, transport);
  const { model } = await models.createModel({ parent: "workspaces/default", modelId: "plain-grpc" });
  const { version } = await versions.createVersion({ parent: model!.name, versionId: "0.1.0" });
  expect(version!.name).toBe("workspaces/default/models/plain-grpc/versions/0.1.0");
});

it("lets buf curl discover and call the API through reflection", async () => {
  const bare = ["curl", "--protocol", "grpc", "--http2-prior-knowledge"];
  const base = [...bare, "-H", `Authorization: Bearer ${process.env.MODELREG_ACCESS_KEY}`];
  // Reflection and health need no key...
  const services = await run(buf, [...bare, "--list-services", server.url]);
  for (const s of ["modelreg.v1.ModelService", "modelreg.v1.VersionService", "grpc.health.v1.Health"]) expect(services.stdout).toContain(s);

  const methods = await run(buf, [...base, "--list-methods", server.url]);
  expect(methods.stdout).toContain("modelreg.v1.VersionService/CreateVersion");

  const created = await run(buf, [...base, "-d", JSON.stringify({ parent: "workspaces/default", modelId: "via-buf-curl", model: { labels: { tool: "buf" } } }), `${server.url}/modelreg.v1.ModelService/CreateModel`]);
  expect(JSON.parse(created.stdout).model).toMatchObject({ name: "workspaces/default/models/via-buf-curl", labels: { tool: "buf" } });

  const health = await run(buf, [...bare, "-d", "{}", `${server.url}/grpc.health.v1.Health/Check`]);
  expect(JSON.parse(health.stdout)).toEqual({ status: "SERVING" });
  // ...everything else does.
  const anonymous = await run(buf, [...bare, "-d", JSON.stringify({ parent: "workspaces/default" }), `${server.url}/modelreg.v1.ModelService/ListModels`]).catch((e) => e);
  expect(anonymous.stderr).toMatch(/unauthenticated/i);

  // An error comes back as a gRPC status, readable by the tool.
  const failed = await run(buf, [...base, "-d", JSON.stringify({ name: "workspaces/default/models/ghost" }), `${server.url}/modelreg.v1.ModelService/GetModel`]).catch((e) => e);
  expect(failed.code).not.toBe(0);
  expect(failed.stderr).toMatch(/not_found/i);
  expect(failed.stderr).toContain("workspaces/default/models/ghost not found");
});
