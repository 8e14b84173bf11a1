// Fixtures shared by tests and benchmarks.
import { Framework, InstallType, Installer, ParameterType, Restraint } from "@modelreg/proto";

/** A version with every settable field set. */
export const FULL_VERSION = {
  description: "gradient-boosted fraud scorer",
  labels: { dataset: "2026-10", team: "risk" },
  lineage: {
    trainingAlgorithmCode: "fraud-xgb",
    trainingAlgorithmVersion: "2.3.1",
    sourceLocation: "s3://models/fraud/run-42/",
    sourceTask: "workspaces/default/tasks/train-42",
    sourceJobId: "job-7781",
    sourceJobVersion: "v3",
    dataVersion: "2026-10",
    sourceType: "auto",
  },
  framework: Framework.XGBOOST,
  runtime: "python3.11",
  algorithm: "binary_classification",
  installTypes: [InstallType.REAL_TIME, InstallType.BATCH],
  metrics: { accuracy: 0.91, f1: 0.88, recall: 0.86, precision: 0.9 },
  preprocessingParameters: { scaler: "standard", columns: ["amount", "age"], clip: { min: 0, max: 1e6 }, impute: null },
  processingCode: {
    language: "python",
    preprocessing: "def pre(x):\n    return x\n",
    postprocessing: "def post(y):\n    return y\n",
    location: "obs://models/fraud/customize_service.py",
  },
  interface: {
    inputs: [
      { name: "amount", type: ParameterType.FLOAT, min: 0, max: 1_000_000, description: "transaction amount", url: "/predict", method: "POST", protocol: "https" },
      { name: "merchant", type: ParameterType.STRING, description: "", url: "", method: "", protocol: "" },
    ],
    outputs: [{ name: "score", type: ParameterType.FLOAT, min: 0, max: 1, description: "fraud probability", url: "/predict", method: "POST", protocol: "https" }],
    apis: [
      {
        url: "/predict",
        method: "POST",
        protocol: "https",
        inputSchema: { type: "object", properties: { amount: { type: "number" } }, required: ["amount"] },
        outputSchema: { $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties: { score: { type: "number" } } },
      },
    ],
  },
  dependencies: [
    {
      installer: Installer.PIP,
      packages: [
        { name: "xgboost", version: "2.1.1", restraint: Restraint.EXACT },
        { name: "numpy", version: "1.26", restraint: Restraint.ATLEAST },
      ],
    },
    { installer: Installer.CONDA, packages: [{ name: "libgomp", version: "14", restraint: Restraint.ATMOST }] },
  ],
  documents: [
    { name: "Model card", url: "https://wiki.example.com/fraud/card" },
    { name: "runbook", url: "http://wiki.example.com/fraud/runbook" },
  ],
  readme: "# Fraud detector\n\nScores card transactions.",
  template: { id: "tmpl/xgb-serving", inferFormat: "xgb-v1", inputs: { model_dir: "/opt/model", threads: "4" } },
  initialConfig: '{"threshold": 0.7}',
};

/** What newModelVersion needs of a client. */
interface ModelAndVersionClient {
  models: { createModel(req: { parent: string; modelId: string }): Promise<unknown> };
  versions: { createVersion(req: { parent: string }): Promise<{ version?: { name: string } | undefined }> };
}

let newModels = 0;

/** A new model in `workspace` and a (PENDING) version of it; resolves with the version's resource name. */
export async function newModelVersion(client: ModelAndVersionClient, workspace = "workspaces/default"): Promise<string> {
  const model = `m${++newModels}`;
  await client.models.createModel({ parent: workspace, modelId: model });
  const { version } = await client.versions.createVersion({ parent: `${workspace}/models/${model}` });
  return version!.name;
}
