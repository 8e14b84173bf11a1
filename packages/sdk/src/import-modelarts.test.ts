// registry.importModelArts() against the real server: the sample request
// (testing/modelarts-import.json, every field used) imported, then read back
// with GetVersion field by field; and ModelArts' own documented sample
// (testing/modelarts-docs-import.json), which the strict rules refuse, kept
// as written and marked.
import { readFileSync } from "node:fs";
import { describeEachDatabase } from "@modelreg/db/testing";
import { Framework, InstallType, Installer, Lifecycle, ParameterType, Restraint, VersionState } from "@modelreg/proto";
import { createTestApp, type TestApp } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Code, ConnectError, errorDetails } from "./errors.js";
import { notStrictlyValid } from "./modelarts.js";

const SAMPLE = readFileSync(new URL("./testing/modelarts-import.json", import.meta.url), "utf8");
/** The sample request of ModelArts' "Importing a Model" API reference (min/max on string parameters, a "file" type, `items` lists). */
const DOCS_SAMPLE = readFileSync(new URL("./testing/modelarts-docs-import.json", import.meta.url), "utf8");

describeEachDatabase("importModelArts", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  }, 60_000);
  afterAll(async () => t?.close());

  it("imports the sample into a model it creates, and reads back every field", async () => {
    const created = await t.client.importModelArts(SAMPLE, { createModel: true });
    expect(created.name).toBe("workspaces/default/models/fraud-detector/versions/1.2.0");
    const { version: v } = await t.client.versions.getVersion({ ref: { case: "name", value: created.name } });
    expect(v).toBeDefined();
    const got = v!;
    expect(got.version).toBe("1.2.0");
    expect(got.state).toBe(VersionState.PENDING);
    expect(got.lifecycle).toBe(Lifecycle.ACTIVE);
    expect(got.description).toBe("Card fraud scorer trained by the nightly pipeline");
    expect(got.framework).toBe(Framework.PYTORCH);
    expect(got.runtime).toBe("pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64");
    expect(got.algorithm).toBe("binary_classification");
    expect(got.lineage).toMatchObject({
      sourceLocation: "https://risk-models.obs.cn-north-4.myhuaweicloud.com/fraud/run-42/model/",
      sourceJobId: "3f2a9c51-7d4e-4b8a-9a61-0c5e2b7d1f09",
      sourceJobVersion: "V0012",
      sourceType: "auto",
    });
    expect(got.processingCode).toMatchObject({ language: "python", location: "https://risk-models.obs.cn-north-4.myhuaweicloud.com/fraud/run-42/model/customize_service.py" });
    expect(got.installTypes).toEqual([InstallType.REAL_TIME, InstallType.BATCH]);
    expect(got.metrics).toEqual({ f1: 0.88, recall: 0.86, precision: 0.9, accuracy: 0.912 });

    const inputs = got.interface!.inputs;
    expect(inputs.map((p) => [p.name, p.type])).toEqual([
      ["amount", ParameterType.FLOAT],
      ["merchant_category", ParameterType.INT],
      ["card_id", ParameterType.STRING],
      ["timestamp", ParameterType.TIMESTAMP],
      ["day", ParameterType.DATE],
      ["transactions", ParameterType.FILE],
      ["receipt_region", ParameterType.BOX],
    ]);
    expect(inputs[0]).toMatchObject({ min: 0, max: 1_000_000, description: "transaction amount in EUR", url: "/v1/score", method: "POST", protocol: "https" });
    expect(inputs[1]).toMatchObject({ min: 1000, max: 9999 });
    expect(inputs[2]!.min).toBeUndefined();
    expect(inputs[6]).toMatchObject({ url: "/v1/receipt", protocol: "http", description: "where on the receipt image the total is" });
    expect(got.interface!.outputs.map((p) => [p.name, p.type, p.min, p.max])).toEqual([
      ["score", ParameterType.FLOAT, 0, 1],
      ["label", ParameterType.STRING, undefined, undefined],
    ]);
    const request = JSON.parse(SAMPLE);
    expect(got.interface!.apis.map((a) => [a.url, a.method, a.protocol])).toEqual([
      ["/v1/score", "POST", "https"],
      ["/v1/batch", "POST", "https"],
    ]);
    expect(got.interface!.apis[0]!.inputSchema).toEqual(request.apis[0].input_params);
    expect(got.interface!.apis[0]!.outputSchema).toEqual(request.apis[0].output_params);
    expect(got.interface!.apis[1]!.inputSchema).toEqual(request.apis[1].input_params);

    expect(got.dependencies).toHaveLength(1);
    expect(got.dependencies[0]!.installer).toBe(Installer.PIP);
    expect(got.dependencies[0]!.packages.map((p) => [p.name, p.version, p.restraint])).toEqual([
      ["torch", "1.8.0", Restraint.EXACT],
      ["numpy", "1.19.5", Restraint.ATLEAST],
      ["pandas", "1.3.5", Restraint.ATMOST],
      ["Pillow", "", Restraint.UNSPECIFIED],
    ]);
    expect(JSON.parse(got.initialConfig)).toEqual(request.initial_config);
    expect(got.documents.map((d) => [d.name, d.url])).toEqual([
      ["Model card", "https://wiki.example.com/risk/fraud-detector/card"],
      ["Runbook", "https://wiki.example.com/risk/fraud-detector/runbook"],
    ]);
    expect(got.template).toMatchObject({
      id: "tmpl-pytorch-serving",
      inferFormat: "pytorch-v1",
      inputs: { model_dir: "https://risk-models.obs.cn-north-4.myhuaweicloud.com/fraud/run-42/model/", threads: "4" },
    });
  });

  it("imports into an existing model, needs createModel for a missing one, and is idempotent with a request id", async () => {
    const next = { ...JSON.parse(SAMPLE), model_version: "1.3.0" };
    const again = await t.client.importModelArts(next, { createModel: true });
    expect(again.version).toBe("1.3.0");

    const missing = await t.client.importModelArts({ ...next, model_name: "ghost" }).catch((e) => e);
    expect(missing).toBeInstanceOf(ConnectError);
    expect((missing as ConnectError).code).toBe(Code.NotFound);

    const unnumbered = { ...next, model_version: undefined };
    const first = await t.client.importModelArts(unnumbered, { requestId: "import-7781" });
    const retry = await t.client.importModelArts(unnumbered, { requestId: "import-7781" });
    expect(first.version).toBe("1.3.1");
    expect(retry.uid).toBe(first.uid);
  });

  it("imports a request as ModelArts' documents write it, keeping it as written and marking what is not strictly valid", async () => {
    const request = JSON.parse(DOCS_SAMPLE);
    const created = await t.client.importModelArts(DOCS_SAMPLE, { createModel: true });
    const { version } = await t.client.versions.getVersion({ ref: { case: "name", value: created.name } });
    const got = version!;
    expect(got.name).toBe("workspaces/default/models/mnist/versions/1.0.0");
    expect(got.interface!.inputs.map((p) => [p.name, p.type, p.min, p.max, p.lenient])).toEqual([["data", ParameterType.STRING, 0, 9, true]]);
    expect(got.interface!.outputs.map((p) => [p.name, p.type, p.min, p.max, p.lenient])).toEqual([["data", ParameterType.STRING, 0, 9, true]]);
    expect(got.interface!.apis[0]!.lenient).toBe(true);
    expect(got.interface!.apis[0]!.inputSchema).toEqual(request.apis[0].input_params);
    expect(got.interface!.apis[0]!.outputSchema).toEqual(request.apis[0].output_params);
    expect(got.metrics).toEqual({ f1: 0.52381, recall: 0.666667, precision: 0.466667, accuracy: 0.625 });
    expect(got.dependencies[0]!.packages.map((p) => [p.name, p.version])).toEqual([
      ["numpy", "1.5.0"],
      ["h5py", "2.8.0rc1"],
    ]);
    expect(notStrictlyValid(got).map((w) => w.key)).toEqual(["input_params[0]", "output_params[0]", "apis[0]"]);
    // The strictly valid sample has nothing marked.
    const strict = await t.client.versions.getVersion({ ref: { case: "name", value: "workspaces/default/models/fraud-detector/versions/1.2.0" } });
    expect(notStrictlyValid(strict.version!)).toEqual([]);
  });

  it("keeps a box type too, and still refuses a schema that names its dialect and breaks it", async () => {
    const request = JSON.parse(DOCS_SAMPLE);
    request.model_version = "1.0.1";
    request.apis[0].output_params.properties.region = { type: "box" };
    const kept = await t.client.importModelArts(request);
    expect(kept.interface!.apis[0]!.outputSchema).toEqual(request.apis[0].output_params);
    request.model_version = "1.0.2";
    request.apis[0].input_params.$schema = "https://json-schema.org/draft/2020-12/schema";
    const refused = await t.client.importModelArts(request).then(
      () => expect.unreachable("a schema claiming draft 2020-12 with type box was taken"),
      (e: unknown) => errorDetails(e),
    );
    expect(refused).toMatchObject({ code: Code.InvalidArgument, fieldViolations: [{ field: "version.interface.apis[0].input_schema" }] });
    expect(refused.fieldViolations[0]!.description).toMatch(/checked even with lenient/);
  });

  it("refuses an unknown key before any call", async () => {
    await expect(t.client.importModelArts({ ...JSON.parse(SAMPLE), source_copy: "true" })).rejects.toThrow(/"source_copy" is not a key this import knows/);
    await expect(t.client.models.getModel({ name: "workspaces/default/models/fraud-detector" })).resolves.toMatchObject({ model: { versionCount: 3n } });
  });
});
