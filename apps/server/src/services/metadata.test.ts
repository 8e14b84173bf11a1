// Version metadata through the real router and the SDK, on both databases:
// every field round-trips, updates follow the mask, bad values are named
// field by field, creates are idempotent with request_id.
import { Code, Framework, InstallType, Installer, Lifecycle, ParameterType } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDatabase } from "@modelreg/db/testing";
import { failure } from "../testing/failure.js";
import { FULL_VERSION } from "../testing/fixtures.js";
import { createTestApp, type TestApp } from "../testing/test-app.js";


describeEachDatabase("version metadata", (kind) => {
  let t: TestApp;
  const parent = "workspaces/default/models/meta";
  beforeAll(async () => {
    t = await createTestApp(kind);
    await t.client.models.createModel({ parent: "workspaces/default", modelId: "meta" });
  }, 60_000);
  afterAll(async () => t?.close());

  it("round-trips every field through create, get and list", async () => {
    const { version } = await t.client.versions.createVersion({ parent, versionId: "1.0.0", version: FULL_VERSION });
    expect(version).toMatchObject({ ...FULL_VERSION, lifecycle: Lifecycle.ACTIVE, aliases: [] });
    const got = (await t.client.versions.getVersion({ ref: { case: "name", value: version!.name } })).version;
    expect(got).toEqual(version);
    const listed = (await t.client.versions.listVersions({ parent })).versions.find((v) => v.version === "1.0.0");
    expect(listed).toEqual(version);
    // The auto-numbered path stores the same.
    const auto = (await t.client.versions.createVersion({ parent, version: FULL_VERSION })).version!;
    expect(auto).toMatchObject({ version: "1.0.1", ...FULL_VERSION });
  });

  it("updates only the fields in the mask, keeps lineage fixed, and re-indexes metrics", async () => {
    const { version } = await t.client.versions.createVersion({ parent, versionId: "2.0.0", version: FULL_VERSION });
    const updated = (
      await t.client.versions.updateVersion({
        version: { name: version!.name, metrics: { f1: 0.93 }, runtime: "python3.12", readme: "ignored: not in the mask", framework: Framework.ONNX },
        updateMask: { paths: ["metrics", "runtime", "framework"] },
      })
    ).version!;
    expect(updated).toMatchObject({ metrics: { f1: 0.93 }, runtime: "python3.12", framework: Framework.ONNX, readme: FULL_VERSION.readme, lineage: FULL_VERSION.lineage });
    const byMetric = await t.client.versions.listVersions({ parent, filter: "metrics.f1 > 0.92" });
    expect(byMetric.versions.map((v) => v.version)).toEqual(["2.0.0"]);
    const mask = await failure(t.client.versions.updateVersion({ version: { name: version!.name }, updateMask: { paths: ["lineage"] } }));
    expect(mask.fieldViolations[0]).toMatchObject({ field: "update_mask", description: expect.stringContaining('"lineage" cannot be updated') });
  });

  it("names every bad field", async () => {
    const e = await failure(
      t.client.versions.createVersion({
        parent,
        requestId: "bad id!",
        version: {
          runtime: "python 3",
          algorithm: "1st_try",
          framework: 99 as Framework,
          installTypes: [InstallType.BATCH, InstallType.BATCH],
          metrics: { f1: Number.NaN, "9bad": 1 },
          processingCode: { preprocessing: "x = 1" },
          interface: {
            inputs: [
              { name: "a", type: ParameterType.STRING, min: 1 },
              { name: "a", type: ParameterType.INT, min: 5, max: 1 },
            ],
            apis: [{ url: "predict", method: "FETCH", protocol: "grpc", inputSchema: { type: "no-such-type" } }],
          },
          dependencies: [{ installer: Installer.PIP, packages: [{ name: "numpy", version: "1.26" }, { name: "NumPy" }] }],
          documents: [
            { name: "1doc", url: "ftp://x" },
            { name: "b", url: "https://x" },
            { name: "c", url: "https://x" },
            { name: "d", url: "https://x" },
          ],
          template: { id: "", inputs: { "Bad Key": "v" } },
          lineage: { sourceLocation: "not a uri", sourceTask: "tasks/1", dataVersion: "x".repeat(129) },
        },
      }),
    );
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.fieldViolations.map((v) => v.field).sort()).toEqual(
      [
        "request_id",
        "version.algorithm",
        "version.dependencies[0].packages[0].restraint",
        "version.dependencies[0].packages[1].name",
        "version.documents",
        "version.documents[0].name",
        "version.documents[0].url",
        "version.framework",
        "version.install_types[1]",
        "version.interface.apis[0].input_schema",
        "version.interface.apis[0].method",
        "version.interface.apis[0].protocol",
        "version.interface.apis[0].url",
        "version.interface.inputs[0].min",
        "version.interface.inputs[1].max",
        "version.interface.inputs[1].name",
        "version.lineage.data_version",
        "version.lineage.source_location",
        "version.lineage.source_task",
        'version.metrics["9bad"]',
        'version.metrics["f1"]',
        "version.processing_code.language",
        "version.runtime",
        "version.template.id",
        'version.template.inputs["Bad Key"]',
      ].sort(),
    );
    expect(e.fieldViolations.find((v) => v.field === "version.interface.apis[0].input_schema")!.description).toMatch(/not a valid JSON Schema/);
  });

  it("returns the first result for a retried create with the same request_id", async () => {
    const first = (await t.client.versions.createVersion({ parent, requestId: "run-77", version: { description: "once" } })).version!;
    const again = (await t.client.versions.createVersion({ parent, requestId: "run-77", version: { description: "once" } })).version!;
    expect(again.uid).toBe(first.uid);
    // Concurrent retries of an auto-numbered create make one version.
    const many = await Promise.all(Array.from({ length: 8 }, () => t.client.versions.createVersion({ parent, requestId: "run-78" })));
    expect(new Set(many.map((r) => r.version!.uid)).size).toBe(1);
    const named = await Promise.all(Array.from({ length: 4 }, () => t.client.versions.createVersion({ parent, versionId: "9.9.9", requestId: "run-79" })));
    expect(new Set(named.map((r) => r.version!.uid)).size).toBe(1);
    // Without one, the same version id is ALREADY_EXISTS.
    expect((await failure(t.client.versions.createVersion({ parent, versionId: "9.9.9" }))).code).toBe(Code.AlreadyExists);
    const m1 = (await t.client.models.createModel({ parent: "workspaces/default", modelId: "idem", requestId: "mk-1" })).model!;
    const m2 = (await t.client.models.createModel({ parent: "workspaces/default", modelId: "idem", requestId: "mk-1" })).model!;
    expect(m2.uid).toBe(m1.uid);
    expect((await failure(t.client.models.createModel({ parent: "workspaces/default", modelId: "idem" }))).code).toBe(Code.AlreadyExists);
  });
});
