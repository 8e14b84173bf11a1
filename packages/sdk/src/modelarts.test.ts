// The ModelArts mapping on its own: every field of the sample lands where
// the contract says, model types in any case, and what cannot be kept is
// refused naming the key.
import { readFileSync } from "node:fs";
import { Framework, InstallType, Installer, type InterfaceParameter, ParameterType, Restraint, type Version } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { languageOf, modelArtsToVersion, ModelArtsImportError, notStrictlyValid } from "./modelarts.js";

const SAMPLE = readFileSync(new URL("./testing/modelarts-import.json", import.meta.url), "utf8");
/** The sample request of ModelArts' "Importing a Model" API reference: min/max on string parameters, a "file" type and `items` lists in its API schemas. */
const DOCS_SAMPLE = readFileSync(new URL("./testing/modelarts-docs-import.json", import.meta.url), "utf8");
const sample = () => JSON.parse(SAMPLE) as Record<string, unknown>;

function refusal(request: object): ModelArtsImportError {
  try {
    modelArtsToVersion(request);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelArtsImportError);
    return e as ModelArtsImportError;
  }
  throw new Error("expected the import to be refused");
}

describe("modelArtsToVersion", () => {
  it("maps the sample, given as JSON text or as an object, field by field", () => {
    const { modelId, versionId, version } = modelArtsToVersion(SAMPLE);
    expect(modelArtsToVersion(sample())).toEqual({ modelId, versionId, version });
    expect(modelId).toBe("fraud-detector");
    expect(versionId).toBe("1.2.0");
    expect(version.description).toBe("Card fraud scorer trained by the nightly pipeline");
    expect(version.framework).toBe(Framework.PYTORCH);
    expect(version.runtime).toBe("pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64");
    expect(version.algorithm).toBe("binary_classification");
    expect(version.lineage).toEqual({
      sourceLocation: "https://risk-models.obs.cn-north-4.myhuaweicloud.com/fraud/run-42/model/",
      sourceJobId: "3f2a9c51-7d4e-4b8a-9a61-0c5e2b7d1f09",
      sourceJobVersion: "V0012",
      sourceType: "auto",
      dataVersion: "",
    });
    expect(version.processingCode).toEqual({ language: "python", location: "https://risk-models.obs.cn-north-4.myhuaweicloud.com/fraud/run-42/model/customize_service.py" });
    expect(version.installTypes).toEqual([InstallType.REAL_TIME, InstallType.BATCH]);
    expect(version.metrics).toEqual({ f1: 0.88, recall: 0.86, precision: 0.9, accuracy: 0.912 });
    expect(version.interface?.inputs).toHaveLength(7);
    expect(version.interface?.inputs?.[0]).toEqual({
      name: "amount",
      type: ParameterType.FLOAT,
      min: 0,
      max: 1_000_000,
      description: "transaction amount in EUR",
      url: "/v1/score",
      method: "post",
      protocol: "https",
      lenient: true,
    });
    expect(version.interface?.inputs?.map((p) => p.type)).toEqual([
      ParameterType.FLOAT,
      ParameterType.INT,
      ParameterType.STRING,
      ParameterType.TIMESTAMP,
      ParameterType.DATE,
      ParameterType.FILE,
      ParameterType.BOX,
    ]);
    expect(version.interface?.inputs?.[2]).not.toHaveProperty("min");
    expect(version.interface?.outputs?.map((p) => p.name)).toEqual(["score", "label"]);
    expect(version.interface?.apis?.[0]).toMatchObject({ url: "/v1/score", method: "post", protocol: "https", inputSchema: { required: ["amount", "card_id"] } });
    expect(version.interface?.apis?.[1]?.outputSchema).toEqual({ type: "object", properties: { job: { type: "string" } } });
    expect(version.dependencies).toEqual([
      {
        installer: Installer.PIP,
        packages: [
          { name: "torch", version: "1.8.0", restraint: Restraint.EXACT },
          { name: "numpy", version: "1.19.5", restraint: Restraint.ATLEAST },
          { name: "pandas", version: "1.3.5", restraint: Restraint.ATMOST },
          { name: "Pillow", version: "", restraint: Restraint.UNSPECIFIED },
        ],
      },
    ]);
    expect(JSON.parse(version.initialConfig!)).toEqual(sample().initial_config);
    expect(version.documents).toEqual([
      { name: "Model card", url: "https://wiki.example.com/risk/fraud-detector/card" },
      { name: "Runbook", url: "https://wiki.example.com/risk/fraud-detector/runbook" },
    ]);
    expect(version.template).toEqual({
      id: "tmpl-pytorch-serving",
      inferFormat: "pytorch-v1",
      inputs: { model_dir: "https://risk-models.obs.cn-north-4.myhuaweicloud.com/fraud/run-42/model/", threads: "4" },
    });
  });

  it("takes every model_type in any case", () => {
    const cases: [string, Framework][] = [
      ["TensorFlow", Framework.TENSORFLOW_SAVED_MODEL],
      ["MXNet", Framework.MXNET],
      ["Caffe", Framework.CAFFE],
      ["Spark_MLlib", Framework.SPARK_MLLIB],
      ["Scikit_Learn", Framework.SCIKIT_LEARN],
      ["XGBoost", Framework.XGBOOST],
      ["Image", Framework.IMAGE],
      ["PyTorch", Framework.PYTORCH],
      ["Template", Framework.TEMPLATE],
      ["Custom", Framework.CUSTOMIZED],
      ["PMML", Framework.PMML],
      ["Keras", Framework.H5],
      ["H5", Framework.H5],
      ["ONNX", Framework.ONNX],
      ["Safetensors", Framework.SAFETENSORS],
      ["LightGBM", Framework.LIGHTGBM],
      ["Paddle", Framework.PADDLE],
      ["pytorch", Framework.PYTORCH],
      ["SCIKIT-LEARN", Framework.SCIKIT_LEARN],
      ["spark_mllib", Framework.SPARK_MLLIB],
    ];
    for (const [type, framework] of cases) expect(modelArtsToVersion({ model_name: "m", model_type: type }).version.framework, type).toBe(framework);
  });

  it("keeps a minimal request minimal, and OBS paths as obs:// URIs", () => {
    const { versionId, version } = modelArtsToVersion({ model_name: "m", source_location: "/risk-models/fraud/model", execution_code: "/risk-models/fraud/model/customize_service.py" });
    expect(versionId).toBe("");
    expect(version.framework).toBe(Framework.UNSPECIFIED);
    expect(version.lineage?.sourceLocation).toBe("obs://risk-models/fraud/model");
    expect(version.processingCode).toEqual({ location: "obs://risk-models/fraud/model/customize_service.py", language: "python" });
    expect(version).not.toHaveProperty("interface");
    expect(version).not.toHaveProperty("template");
    expect(modelArtsToVersion({ model_name: "m", model_metrics: { f1: "0.5" } }).version.metrics).toEqual({ f1: 0.5 });
  });

  it("keeps the data version and the ModelArts workspace", () => {
    const { version } = modelArtsToVersion({ model_name: "m", model_data_version: "2026-10", workspace_id: "0" });
    expect(version.lineage?.dataVersion).toBe("2026-10");
    expect(version.labels).toEqual({ "modelarts/workspace_id": "0" });
  });

  it("refuses unknown keys, at any depth, naming them", () => {
    expect(refusal({ ...sample(), source_copy: true }).key).toBe("source_copy");
    expect(refusal({ ...sample(), source_copy: true }).message).toMatch(/"source_copy" is not a key this import knows/);
    const s = sample();
    (s.input_params as Record<string, unknown>[])[1]!.param_unit = "EUR";
    expect(refusal(s).key).toBe("input_params[1].param_unit");
    const t = sample();
    ((t.dependencies as Record<string, unknown>[])[0]!.packages as Record<string, unknown>[])[2]!.extra = true;
    expect(refusal(t).key).toBe("dependencies[0].packages[2].extra");
  });

  it("refuses values it cannot place, naming the key", () => {
    expect(refusal({ model_name: "m", model_type: "Theano" })).toMatchObject({ key: "model_type", message: expect.stringMatching(/"Theano" is not one of TensorFlow/) });
    expect(refusal({ model_name: "m", input_params: [{ param_name: "x", param_type: "tensor" }] }).key).toBe("input_params[0].param_type");
    expect(refusal({ model_name: "m", install_type: ["stream"] }).key).toBe("install_type[0]");
    expect(refusal({ model_name: "m", model_metrics: "{f1: 1}" }).key).toBe("model_metrics");
    expect(refusal({ model_name: "m", model_metrics: '{"f1": "high"}' }).key).toBe("model_metrics.f1");
    expect(refusal({ model_name: "m", dependencies: [{ installer: "apt", packages: [] }] }).key).toBe("dependencies[0].installer");
    expect(refusal({ model_name: "m", template: { template_id: "t", template_inputs: [{ input_id: "a" }, { input_id: "a" }] } }).key).toBe("template.template_inputs[1].input_id");
    expect(refusal({ model_version: "1.0.0" }).key).toBe("model_name");
    expect(refusal({ model_name: "m", apis: {} }).key).toBe("apis");
    expect(refusal({ model_name: ["m"] }).key).toBe("model_name");
    expect(() => modelArtsToVersion("{")).toThrow(/not valid JSON/);
    expect(() => modelArtsToVersion("[]")).toThrow(/request must be a JSON object/);
  });

  it("keeps a request as ModelArts' documents write it, every parameter and API with lenient", () => {
    const doc = JSON.parse(DOCS_SAMPLE);
    const { modelId, versionId, version } = modelArtsToVersion(DOCS_SAMPLE);
    expect([modelId, versionId]).toEqual(["mnist", "1.0.0"]);
    expect(version.interface?.inputs).toEqual([{ name: "data", type: ParameterType.STRING, min: 0, max: 9, description: "data", url: "/", method: "post", protocol: "http", lenient: true }]);
    expect(version.interface?.outputs?.[0]).toMatchObject({ name: "data", type: ParameterType.STRING, min: 0, max: 9, lenient: true });
    expect(version.interface?.apis).toEqual([{ url: "/", method: "post", protocol: "http", inputSchema: doc.apis[0].input_params, outputSchema: doc.apis[0].output_params, lenient: true }]);
  });

  it("names what the server kept as written, by the request's keys", () => {
    const p = (name: string, type: ParameterType, lenient: boolean) => ({ name, type, lenient }) as InterfaceParameter;
    const version = {
      interface: {
        inputs: [p("amount", ParameterType.FLOAT, false), p("data", ParameterType.STRING, true)],
        outputs: [p("label", ParameterType.STRING, true)],
        apis: [{ url: "/", method: "POST", lenient: true }, { url: "/ok", method: "POST", lenient: false }],
      },
    } as unknown as Version;
    expect(notStrictlyValid(version)).toEqual([
      { key: "input_params[1]", message: 'min/max kept on "data", a string parameter (the registry gives them meaning on int and float only)' },
      { key: "output_params[0]", message: expect.stringContaining('"label"') },
      { key: "apis[0]", message: "input_params/output_params of POST / kept as written: not valid JSON Schema" },
    ]);
    expect(notStrictlyValid({ interface: undefined })).toEqual([]);
  });

  it("infers the language of the code from its extension", () => {
    expect(languageOf("obs://b/customize_service.py")).toBe("python");
    expect(languageOf("https://x/y/Serve.JAVA")).toBe("java");
    expect(languageOf("obs://b/run")).toBe("");
    expect(languageOf("obs://b.dir/run")).toBe("");
  });
});
