// google.protobuf.Struct values through the real router, on both databases:
// a NUL in a key or a string (which PostgreSQL's jsonb cannot hold, so the
// insert failed and the call answered Internal) is refused with
// InvalidArgument naming its path, in binary (the SDK) and in JSON, on
// create and on update; and nothing is written.
import { describeEachDatabase } from "@modelreg/db/testing";
import { Code } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { failure } from "../testing/failure.js";
import { startTestServer, type TestServer } from "../testing/test-app.js";

describeEachDatabase("Struct values", (kind) => {
  let t: TestServer;
  const parent = "workspaces/default/models/structs";
  beforeAll(async () => {
    t = await startTestServer(kind);
    await t.client.models.createModel({ parent: "workspaces/default", modelId: "structs" });
  }, 60_000);
  afterAll(async () => t?.close());

  it("refuses a NUL in a preprocessing parameter's key or value, naming it", async () => {
    const e = await failure(t.client.versions.createVersion({ parent, versionId: "1.0.0", version: { preprocessingParameters: { "a\u0000": 1, b: "x\u0000" } } }));
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.fieldViolations.map((v) => v.field)).toEqual(['version.preprocessing_parameters["a\\u0000"]', 'version.preprocessing_parameters["b"]']);
    expect(e.fieldViolations[0]!.description).toMatch(/NUL character/);
  });

  it("refuses one in an API schema, on create and on update, and writes nothing", async () => {
    const apis = [{ url: "/p", method: "POST", protocol: "http", inputSchema: { type: "object", description: "bad\u0000" } }];
    const created = await failure(t.client.versions.createVersion({ parent, versionId: "1.0.1", version: { interface: { apis } } }));
    expect(created.fieldViolations.map((v) => v.field)).toEqual(['version.interface.apis[0].input_schema["description"]']);
    const { version } = await t.client.versions.createVersion({ parent, versionId: "1.0.2" });
    const updated = await failure(t.client.versions.updateVersion({ version: { name: version!.name, interface: { apis } }, updateMask: { paths: ["interface"] } }));
    expect(updated.code).toBe(Code.InvalidArgument);
    expect((await t.client.versions.listVersions({ parent })).versions.map((v) => v.version)).toEqual(["1.0.2"]);
  });

  it("refuses a NUL or a lone surrogate sent as JSON the same way", async () => {
    for (const [params, field] of [
      ['{"a\\u0000": 1}', 'version.preprocessing_parameters["a\\u0000"]'],
      ['{"a": ["\\ud800"]}', 'version.preprocessing_parameters["a"][0]'],
    ] as const) {
      const res = await fetch(`${t.url}/modelreg.v1.VersionService/CreateVersion`, {
        method: "POST",
        headers: { "content-type": "application/json", "connect-protocol-version": "1" },
        body: `{"parent": "${parent}", "versionId": "2.0.0", "version": {"preprocessingParameters": ${params}}}`,
      });
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("invalid_argument");
      expect(body.message.startsWith(`${field}: `)).toBe(true);
    }
  });
});
