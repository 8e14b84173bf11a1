// JSON requests through a real server over the Connect protocol, on both
// databases: an unknown field or an unknown enum name is refused with
// InvalidArgument and a BadRequest entry naming its path (Connect-ES drops
// both by default, so a typo made a version without the field, and
// GetLatestExport with a misspelt format matched any format); an enum
// number the contract does not name is refused too, in JSON and in binary.
// Nothing is created by a refused call.
import { fromBinary } from "@bufbuild/protobuf";
import { describeEachDatabase } from "@modelreg/db/testing";
import { BadRequestSchema } from "@modelreg/proto";
import { Code, type ExportFormat } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { failure } from "../testing/failure.js";
import { startTestServer, type TestServer } from "../testing/test-app.js";

describeEachDatabase("JSON requests", (kind) => {
  let t: TestServer;
  const parent = "workspaces/default/models/strict";

  type Answer = { code?: string; message?: string; details?: { type: string; value: string }[] } & Record<string, unknown>;

  /** A Connect unary call with `body` as its JSON request. */
  async function post(method: string, body: unknown): Promise<{ status: number; json: Answer }> {
    const res = await fetch(`${t.url}/modelreg.v1.${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1" },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Answer };
  }

  /** The BadRequest field violations of a Connect JSON error. */
  function violations(a: Answer): { field: string; description: string }[] {
    const detail = a.details?.find((d) => d.type === "google.rpc.BadRequest");
    if (!detail) return [];
    return fromBinary(BadRequestSchema, Buffer.from(detail.value, "base64")).fieldViolations.map(({ field, description }) => ({ field, description }));
  }

  beforeAll(async () => {
    t = await startTestServer(kind);
    await t.client.models.createModel({ parent: "workspaces/default", modelId: "strict" });
  }, 60_000);
  afterAll(async () => t?.close());

  it("takes a request whose fields and enum names the contract knows", async () => {
    const ok = await post("VersionService/CreateVersion", { parent, versionId: "1.0.0", version: { framework: "FRAMEWORK_PYTORCH", description: "known" } });
    expect(ok.status).toBe(200);
    expect(ok.json.version).toMatchObject({ framework: "FRAMEWORK_PYTORCH", description: "known" });
  });

  it("refuses an unknown enum name, naming the field", async () => {
    const r = await post("VersionService/CreateVersion", {
      parent,
      versionId: "1.0.1",
      version: { framework: "FRAMEWORK_PYTORCHH", installTypes: ["INSTALL_TYPE_BATCH", "REALTIME"], dependencies: [{ installer: "INSTALLER_PIP", packages: [{ name: "numpy", restraint: "EXACTLY" }] }] },
    });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("invalid_argument");
    expect(violations(r.json)).toEqual([
      { field: "version.framework", description: expect.stringMatching(/^"FRAMEWORK_PYTORCHH" is not a value of Framework \(did you mean FRAMEWORK_PYTORCH\?\): use FRAMEWORK_/) },
      { field: "version.install_types[1]", description: expect.stringMatching(/^"REALTIME" is not a value of InstallType/) },
      { field: "version.dependencies[0].packages[0].restraint", description: expect.stringMatching(/^"EXACTLY" is not a value of Restraint/) },
    ]);
    expect(r.json.message).toMatch(/^version\.framework: "FRAMEWORK_PYTORCHH" is not a value of Framework/);
  });

  it("refuses an unknown field, naming it", async () => {
    const r = await post("VersionService/CreateVersion", { parent, versionId: "1.0.2", version: { descripton: "typo", lineage: { data_version: "v1", dataSet: "x" } } });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("invalid_argument");
    expect(violations(r.json)).toEqual([
      { field: "version.descripton", description: "is not a field of modelreg.v1.Version (did you mean description?)" },
      { field: "version.lineage.dataSet", description: "is not a field of modelreg.v1.Lineage" },
    ]);
    const top = await post("ModelService/GetModel", { name: parent, view: "FULL" });
    expect(top.json.code).toBe("invalid_argument");
    expect(violations(top.json)).toEqual([{ field: "view", description: "is not a field of modelreg.v1.GetModelRequest" }]);
    // Neither refused create made a version.
    const list = await t.client.versions.listVersions({ parent });
    expect(list.versions.map((v) => v.version)).toEqual(["1.0.0"]);
  });

  it("refuses GetLatestExport with a format the contract does not name, by name or by number, in JSON and in binary", async () => {
    const version = `${parent}/versions/1.0.0`;
    const byName = await post("ExportService/GetLatestExport", { parent: version, format: "EXPORT_FORMAT_TARR" });
    expect(byName.json.code).toBe("invalid_argument");
    expect(violations(byName.json)).toEqual([{ field: "format", description: expect.stringMatching(/^"EXPORT_FORMAT_TARR" is not a value of ExportFormat \(did you mean EXPORT_FORMAT_TAR\?\)/) }]);
    const byNumber = await post("ExportService/GetLatestExport", { parent: version, format: 99 });
    expect(byNumber.json).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/99 is not a format/) });
    const binary = await failure(t.client.exports.getLatestExport({ parent: version, format: 99 as ExportFormat }));
    expect(binary.code).toBe(Code.InvalidArgument);
    expect(binary.fieldViolations).toEqual([expect.objectContaining({ field: "format" })]);
    // A known format, and none at all, are answered.
    expect((await post("ExportService/GetLatestExport", { parent: version, format: "EXPORT_FORMAT_TAR" })).json).toEqual({});
    expect((await t.client.exports.getLatestExport({ parent: version })).hasRecord).toBe(false);
  });
});
