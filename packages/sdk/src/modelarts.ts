// modelArtsToVersion(): a Huawei ModelArts "import model" request body
// (POST /v1/{project_id}/models) as the model id, version id and Version of
// a CreateVersion call, keeping every field it carries. Keys this mapping
// does not know, and values it cannot place (an unknown model_type), are
// refused with an error naming the key: nothing is dropped silently.
// The registry's own rules (name lengths, URL forms, JSON Schemas) are
// checked by the server, which names the Version field it refuses; except
// that what ModelArts' own documents write and the registry's strict rules
// refuse (min/max on a string parameter; API schemas with types such as
// "file", or `items` as a list) is kept as written: every parameter and
// API goes with `lenient`, and the server marks those it kept that way
// (notStrictlyValid() lists them, to warn about).
import type { JsonObject, JsonValue, MessageInitShape } from "@bufbuild/protobuf";
import {
  Framework,
  InstallType,
  Installer,
  type InterfaceParameter,
  ParameterType,
  Restraint,
  type Version,
  type VersionSchema,
} from "@modelreg/proto";

export type VersionInit = MessageInitShape<typeof VersionSchema>;

export interface ModelArtsImport {
  /** `model_name`: the registry model id. */
  modelId: string;
  /** `model_version`: the version id ("" when the request has none: the server assigns one). */
  versionId: string;
  /** Everything else, as the `version` of a CreateVersion request. */
  version: VersionInit;
}

/** A request this mapping cannot take without loss; `key` is the path of the offending key, e.g. `input_params[1].param_type`. */
export class ModelArtsImportError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`ModelArts import: ${key === "" ? "" : `"${key}" `}${message}`);
    this.name = "ModelArtsImportError";
  }
}

/** model_type (compared without case, `_`, `-`, `/` or spaces) -> framework. */
const FRAMEWORKS: Record<string, Framework> = {
  tensorflow: Framework.TENSORFLOW_SAVED_MODEL,
  mxnet: Framework.MXNET,
  caffe: Framework.CAFFE,
  sparkmllib: Framework.SPARK_MLLIB,
  scikitlearn: Framework.SCIKIT_LEARN,
  sklearn: Framework.SCIKIT_LEARN,
  xgboost: Framework.XGBOOST,
  image: Framework.IMAGE,
  pytorch: Framework.PYTORCH,
  template: Framework.TEMPLATE,
  custom: Framework.CUSTOMIZED,
  customized: Framework.CUSTOMIZED,
  pmml: Framework.PMML,
  keras: Framework.H5,
  h5: Framework.H5,
  kerash5: Framework.H5,
  onnx: Framework.ONNX,
  safetensors: Framework.SAFETENSORS,
  lightgbm: Framework.LIGHTGBM,
  paddle: Framework.PADDLE,
  paddlepaddle: Framework.PADDLE,
};

const PARAMETER_TYPES: Record<string, ParameterType> = {
  int: ParameterType.INT,
  integer: ParameterType.INT,
  string: ParameterType.STRING,
  str: ParameterType.STRING,
  float: ParameterType.FLOAT,
  number: ParameterType.FLOAT,
  timestamp: ParameterType.TIMESTAMP,
  date: ParameterType.DATE,
  file: ParameterType.FILE,
  box: ParameterType.BOX,
};

const INSTALLERS: Record<string, Installer> = { pip: Installer.PIP, conda: Installer.CONDA, npm: Installer.NPM };
const RESTRAINTS: Record<string, Restraint> = { exact: Restraint.EXACT, atleast: Restraint.ATLEAST, atmost: Restraint.ATMOST };
const INSTALL_TYPES: Record<string, InstallType> = { realtime: InstallType.REAL_TIME, batch: InstallType.BATCH };

/** Code file extension -> processing_code.language. */
const LANGUAGES: Record<string, string> = {
  py: "python",
  ipynb: "python",
  js: "javascript",
  mjs: "javascript",
  ts: "typescript",
  java: "java",
  scala: "scala",
  r: "r",
  sh: "shell",
  go: "go",
  lua: "lua",
  cpp: "c++",
  cc: "c++",
};

const TOP_LEVEL = [
  "model_name",
  "model_version",
  "description",
  "model_type",
  "runtime",
  "model_algorithm",
  "source_location",
  "source_job_id",
  "source_job_version",
  "source_type",
  "model_data_version",
  "workspace_id",
  "execution_code",
  "input_params",
  "output_params",
  "model_metrics",
  "dependencies",
  "apis",
  "initial_config",
  "model_docs",
  "install_type",
  "template",
] as const;

/** Maps a ModelArts import request (an object, or its JSON text) to a CreateVersion; throws ModelArtsImportError on what it cannot keep. */
export function modelArtsToVersion(request: object | string): ModelArtsImport {
  let doc: unknown = request;
  if (typeof request === "string") {
    try {
      doc = JSON.parse(request);
    } catch (e) {
      throw new ModelArtsImportError("", `request is not valid JSON (${(e as Error).message})`);
    }
  }
  const r = object(doc, "");
  known(r, "", TOP_LEVEL);
  const modelId = str(r, "model_name", "", true);
  const version: VersionInit = {
    description: str(r, "description"),
    framework: r.model_type == null ? Framework.UNSPECIFIED : lookup(FRAMEWORKS, str(r, "model_type"), "model_type", "TensorFlow, MXNet, Caffe, Spark_MLlib, Scikit_Learn, XGBoost, Image, PyTorch, Template, Custom, PMML, Keras (H5), ONNX, Safetensors, LightGBM or Paddle (any case)"),
    runtime: str(r, "runtime"),
    algorithm: str(r, "model_algorithm"),
    lineage: {
      sourceLocation: location(str(r, "source_location")),
      sourceJobId: str(r, "source_job_id"),
      sourceJobVersion: str(r, "source_job_version"),
      sourceType: str(r, "source_type"),
      dataVersion: str(r, "model_data_version"),
    },
    installTypes: list(r, "install_type", "", (v, key) => lookup(INSTALL_TYPES, text(v, key), key, '"real-time" or "batch"')),
    metrics: metrics(r.model_metrics),
    dependencies: list(r, "dependencies", "", dependency),
    documents: list(r, "model_docs", "", (v, key) => {
      const d = object(v, key);
      known(d, key, ["doc_name", "doc_url"]);
      return { name: str(d, "doc_name", key, true), url: str(d, "doc_url", key, true) };
    }),
    // The ModelArts workspace it came from, kept as a label (modelreg's own workspace is the caller's).
    ...(str(r, "workspace_id") !== "" ? { labels: { "modelarts/workspace_id": str(r, "workspace_id") } } : {}),
    initialConfig: r.initial_config == null ? "" : typeof r.initial_config === "string" ? r.initial_config : JSON.stringify(object(r.initial_config, "initial_config")),
  };
  const code = str(r, "execution_code");
  if (code !== "") version.processingCode = { location: location(code), language: languageOf(code) };
  const inputs = list(r, "input_params", "", parameter);
  const outputs = list(r, "output_params", "", parameter);
  const apis = list(r, "apis", "", api);
  if (inputs.length + outputs.length + apis.length > 0) version.interface = { inputs, outputs, apis };
  if (r.template != null) version.template = template(r.template);
  return { modelId, versionId: str(r, "model_version"), version };
}

/** ModelArts writes OBS paths as `/bucket/path`; the registry keeps locations as URIs, so such a path becomes `obs://bucket/path`. */
function location(value: string): string {
  return /^\/[^/]/.test(value) ? `obs:/${value}` : value;
}

/** `.../customize_service.py` -> `python`; "" when the extension says nothing. */
export function languageOf(path: string): string {
  const file = path.slice(path.lastIndexOf("/") + 1);
  const dot = file.lastIndexOf(".");
  return dot > 0 ? (LANGUAGES[file.slice(dot + 1).toLowerCase()] ?? "") : "";
}

function metrics(value: unknown): Record<string, number> {
  if (value == null || value === "") return {};
  let doc = value;
  if (typeof value === "string") {
    try {
      doc = JSON.parse(value);
    } catch (e) {
      throw new ModelArtsImportError("model_metrics", `is not a JSON object in a string (${(e as Error).message})`);
    }
  }
  const m = object(doc, "model_metrics");
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(m)) out[name] = num(v, `model_metrics.${name}`);
  return out;
}

function parameter(value: unknown, key: string) {
  const p = object(value, key);
  known(p, key, ["url", "method", "protocol", "param_name", "param_type", "min", "max", "param_desc"]);
  return {
    name: str(p, "param_name", key, true),
    type: lookup(PARAMETER_TYPES, str(p, "param_type", key, true), `${key}.param_type`, "int, string, float, timestamp, date, file or box"),
    ...(p.min != null ? { min: num(p.min, `${key}.min`) } : {}),
    ...(p.max != null ? { max: num(p.max, `${key}.max`) } : {}),
    description: str(p, "param_desc", key),
    url: str(p, "url", key),
    method: str(p, "method", key),
    protocol: str(p, "protocol", key),
    lenient: true,
  };
}

function api(value: unknown, key: string) {
  const a = object(value, key);
  known(a, key, ["url", "method", "protocol", "input_params", "output_params"]);
  return {
    url: str(a, "url", key, true),
    method: str(a, "method", key, true),
    protocol: str(a, "protocol", key, true),
    ...(a.input_params != null ? { inputSchema: jsonObject(a.input_params, `${key}.input_params`) } : {}),
    ...(a.output_params != null ? { outputSchema: jsonObject(a.output_params, `${key}.output_params`) } : {}),
    lenient: true,
  };
}

/** A part of an imported request kept as written though the registry's strict rules refuse it. */
export interface NotStrictlyValid {
  /** The request's key, e.g. `input_params[0]` or `apis[1]`. */
  key: string;
  /** What about it is not strictly valid. */
  message: string;
}

/**
 * The parts of an imported version the server kept as written and marked
 * `lenient` (not strictly valid), named by the ModelArts request's keys
 * (the import keeps their order), to warn about.
 */
export function notStrictlyValid(version: Pick<Version, "interface">): NotStrictlyValid[] {
  const i = version.interface;
  if (!i) return [];
  const params = (list: InterfaceParameter[], key: string) =>
    list.flatMap((p, n) =>
      p.lenient ? [{ key: `${key}[${n}]`, message: `min/max kept on "${p.name}", a ${ParameterType[p.type]?.toLowerCase() ?? p.type} parameter (the registry gives them meaning on int and float only)` }] : [],
    );
  const apis = i.apis.flatMap((a, n) => (a.lenient ? [{ key: `apis[${n}]`, message: `input_params/output_params of ${a.method} ${a.url} kept as written: not valid JSON Schema` }] : []));
  return [...params(i.inputs, "input_params"), ...params(i.outputs, "output_params"), ...apis];
}

function dependency(value: unknown, key: string) {
  const d = object(value, key);
  known(d, key, ["installer", "packages"]);
  return {
    installer: lookup(INSTALLERS, str(d, "installer", key, true), `${key}.installer`, "pip, conda or npm"),
    packages: list(d, "packages", key, (v, k) => {
      const p = object(v, k);
      known(p, k, ["package_name", "package_version", "restraint"]);
      return {
        name: str(p, "package_name", k, true),
        version: str(p, "package_version", k),
        restraint: p.restraint == null || p.restraint === "" ? Restraint.UNSPECIFIED : lookup(RESTRAINTS, str(p, "restraint", k), `${k}.restraint`, "EXACT, ATLEAST or ATMOST"),
      };
    }),
  };
}

function template(value: unknown) {
  const t = object(value, "template");
  known(t, "template", ["template_id", "infer_format", "template_inputs"]);
  const inputs: Record<string, string> = {};
  list(t, "template_inputs", "template", (v, k) => {
    const i = object(v, k);
    known(i, k, ["input_id", "input"]);
    const id = str(i, "input_id", k, true);
    if (Object.hasOwn(inputs, id)) throw new ModelArtsImportError(`${k}.input_id`, `repeats input "${id}"`);
    inputs[id] = str(i, "input", k);
  });
  return { id: str(t, "template_id", "template"), inferFormat: str(t, "infer_format", "template"), inputs };
}

// --- reading JSON, naming the key on every mistake -------------------------

function at(parent: string, key: string): string {
  return parent === "" ? key : `${parent}.${key}`;
}

function object(value: unknown, key: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new ModelArtsImportError(key, key === "" ? "request must be a JSON object" : "must be a JSON object");
  return value as Record<string, unknown>;
}

/** A JSON object given as an object or as JSON text (ModelArts accepts both for API schemas). */
function jsonObject(value: unknown, key: string): JsonObject {
  if (typeof value === "string") {
    try {
      return object(JSON.parse(value) as JsonValue, key) as JsonObject;
    } catch (e) {
      if (e instanceof ModelArtsImportError) throw e;
      throw new ModelArtsImportError(key, `is not a JSON object (${(e as Error).message})`);
    }
  }
  return object(value, key) as JsonObject;
}

function known(o: Record<string, unknown>, parent: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw new ModelArtsImportError(at(parent, k), `is not a key this import knows (known: ${keys.join(", ")}); nothing was imported`);
  }
}

function text(value: unknown, key: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new ModelArtsImportError(key, "must be a string");
}

function str(o: Record<string, unknown>, k: string, parent = "", required = false): string {
  const v = o[k];
  if (v == null || v === "") {
    if (required) throw new ModelArtsImportError(at(parent, k), "is required");
    return "";
  }
  return text(v, at(parent, k));
}

function num(value: unknown, key: string): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) throw new ModelArtsImportError(key, "must be a finite number");
  return n;
}

function list<T>(o: Record<string, unknown>, k: string, parent: string, each: (value: unknown, key: string) => T): T[] {
  const v = o[k];
  if (v == null) return [];
  const key = at(parent, k);
  if (!Array.isArray(v)) throw new ModelArtsImportError(key, "must be a JSON array");
  return v.map((item, i) => each(item, `${key}[${i}]`));
}

function lookup<T>(table: Record<string, T>, value: string, key: string, expected: string): T {
  const found = table[value.toLowerCase().replace(/[\s_\-/]/g, "")];
  if (found === undefined) throw new ModelArtsImportError(key, `"${value}" is not one of ${expected}`);
  return found;
}
