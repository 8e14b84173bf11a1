// The rules of a version's metadata (stated on each field in
// proto/modelreg/v1/version.proto and version_metadata.proto): one
// violation per bad field, interface schemas compiled as JSON Schema.
import { Ajv } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { Violations } from "../shared/validation.js";
import { LABEL_KEY, printable } from "../shared/validation.js";
import type { ApiSpec, Dependency, Document, InterfaceParameter, JsonObject, JsonValue, ModelInterface, ProcessingCode, VersionMetadata, VersionTemplate } from "./metadata.js";

const FRAMEWORK_MAX = 16;
const INSTALL_TYPE_MAX = 2;
const PARAMETER_TYPE_MAX = 7;
const INSTALLER_MAX = 3;
const RESTRAINT_MAX = 3;
const NUMERIC_TYPES = new Set([1, 3]); // INT, FLOAT

const RUNTIME = /^[A-Za-z0-9._+-]{1,64}$/;
const ALGORITHM = /^[A-Za-z][A-Za-z0-9_-]{0,35}$/;
const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_.\/-]{0,63}$/;
const PARAM_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const LANGUAGE = /^[A-Za-z][A-Za-z0-9+._-]{0,31}$/;
const PACKAGE_NAME = /^[A-Za-z0-9@][A-Za-z0-9._@\/-]{0,213}$/;
const PACKAGE_VERSION = /^\S{1,64}$/;
const DOCUMENT_NAME = /^[A-Za-z][A-Za-z0-9 _.-]{0,47}$/;
const TEMPLATE_ID = /^[A-Za-z0-9_.\/-]{1,128}$/;
const INFER_FORMAT = /^[A-Za-z0-9_.-]{1,64}$/;
const HTTP_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
const TEXT_MAX = 65_536;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const ajv2020 = new Ajv2020({ strict: false, validateFormats: false });
const ajv07 = new Ajv({ strict: false, validateFormats: false });

/** Why `schema` is not a usable JSON Schema, or undefined when it is. */
export function jsonSchemaProblem(schema: JsonObject): string | undefined {
  const declared = typeof schema.$schema === "string" ? schema.$schema : "";
  const ajv = declared.includes("draft-07") || declared.includes("draft-06") || declared.includes("draft-04") ? ajv07 : ajv2020;
  if (declared && !ajv.getSchema(declared.replace(/#$/, "")) && !ajv.getSchema(declared))
    return `declares $schema ${printable(declared)}; use draft 2020-12 or draft-07`;
  if (!ajv.validateSchema(schema)) return (ajv.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
  try {
    ajv.compile(schema);
  } catch (err) {
    return (err as Error).message;
  } finally {
    // Ajv keeps every compiled schema (and its $id) for good: each request's schema would stay in memory, and a
    // second schema with the same $id would be refused as a duplicate.
    ajv.removeSchema(schema);
  }
  return undefined;
}

function isUrl(value: string, schemes: string[]): boolean {
  try {
    return schemes.includes(new URL(value).protocol.replace(/:$/, ""));
  } catch {
    return false;
  }
}

function checkEnum(v: Violations, field: string, value: number, max: number, required: boolean): void {
  if (!Number.isInteger(value) || value < 0 || value > max || (required && value === 0))
    v.add(field, `${value} is not a valid value${required ? " (required)" : ""}`);
}

function checkTextMax(v: Violations, field: string, value: string, max: number): void {
  if (value.length > max) v.add(field, `is ${value.length} characters; at most ${max}`);
  else if (CONTROL.test(value)) v.add(field, "contains a control character (only newline, tab and carriage return are allowed)");
}

/** Checks a Struct's size as JSON, and every key and string in it for what PostgreSQL's jsonb cannot hold. */
function checkJson(v: Violations, field: string, value: JsonObject | undefined): void {
  if (value === undefined) return;
  if (Buffer.byteLength(JSON.stringify(value)) > TEXT_MAX) v.add(field, `is larger than ${TEXT_MAX} bytes as JSON`);
  else checkJsonText(v, field, value, { left: 10 });
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why jsonb would refuse this text (a NUL, or half a UTF-16 surrogate pair), or undefined. */
function unstorable(text: string): string | undefined {
  if (text.includes("\u0000")) return "contains a NUL character (\\u0000), which cannot be stored; remove it";
  if (LONE_SURROGATE.test(text)) return "contains half of a UTF-16 surrogate pair (not valid Unicode), which cannot be stored";
  return undefined;
}

/** One violation per bad key or string (at most `budget.left`), named by its path, e.g. `version.preprocessing_parameters["a\u0000"]`. */
function checkJsonText(v: Violations, at: string, value: JsonValue, budget: { left: number }): void {
  const report = (path: string, problem: string | undefined) => {
    if (problem === undefined || budget.left <= 0) return;
    v.add(path, problem);
    budget.left--;
  };
  if (typeof value === "string") report(at, unstorable(value));
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) checkJsonText(v, `${at}[${i}]`, item, budget);
  else if (value !== null && typeof value === "object")
    for (const [key, item] of Object.entries(value)) {
      const path = `${at}[${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)}]`;
      const problem = unstorable(key);
      report(path, problem && `key ${problem}`);
      checkJsonText(v, path, item, budget);
    }
}

function checkParameters(v: Violations, field: string, params: InterfaceParameter[]): void {
  if (params.length > 256) v.add(field, `has ${params.length} parameters; at most 256`);
  const seen = new Set<string>();
  params.forEach((p, i) => {
    const at = `${field}[${i}]`;
    if (!PARAM_NAME.test(p.name)) v.add(`${at}.name`, `"${printable(p.name)}" is not a parameter name: 1-64 characters, a letter first, then letters, digits, _ - .`);
    else if (seen.has(p.name)) v.add(`${at}.name`, `"${p.name}" is used twice`);
    seen.add(p.name);
    checkEnum(v, `${at}.type`, p.type, PARAMETER_TYPE_MAX, true);
    for (const bound of ["min", "max"] as const) {
      const value = p[bound];
      if (value === undefined) continue;
      if (!Number.isFinite(value)) v.add(`${at}.${bound}`, "must be a finite number");
      else if (!NUMERIC_TYPES.has(p.type) && !p.lenient) v.add(`${at}.${bound}`, "is only allowed on INT and FLOAT parameters (set lenient to keep it as written, e.g. from a ModelArts request)");
    }
    if (p.min !== undefined && p.max !== undefined && p.max < p.min) v.add(`${at}.max`, `${p.max} is less than min ${p.min}`);
    checkTextMax(v, `${at}.description`, p.description, 1000);
    if (p.url !== "" || p.method !== "" || p.protocol !== "") checkRoute(v, at, p);
  });
}

/** An API's url, method and protocol (ApiSpec, or the API a parameter belongs to). */
function checkRoute(v: Violations, at: string, r: { url: string; method: string; protocol: string }): void {
  if (!r.url.startsWith("/") || r.url.length > 256 || /\s/.test(r.url)) v.add(`${at}.url`, `"${printable(r.url)}" is not a path: it starts with /, at most 256 characters, no spaces`);
  if (!HTTP_METHODS.has(r.method.toUpperCase())) v.add(`${at}.method`, `"${printable(r.method)}" is not one of GET, POST, PUT, PATCH, DELETE`);
  if (!["http", "https"].includes(r.protocol.toLowerCase())) v.add(`${at}.protocol`, `"${printable(r.protocol)}" is not http or https`);
}

/** A URI with a scheme, at most 2,048 characters, no spaces. */
export function isUri(value: string): boolean {
  if (value.length > 2048 || /\s/.test(value)) return false;
  try {
    return /^[a-z][a-z0-9+.-]*:$/.test(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Checks every metadata field, adding one violation per bad field under `prefix` (e.g. `version`). */
export function checkMetadata(v: Violations, prefix: string, m: VersionMetadata): void {
  const f = (name: string) => `${prefix}.${name}`;
  checkBasics(v, f, m);
  checkJson(v, f("preprocessing_parameters"), m.preprocessingParameters);
  if (m.processingCode) checkProcessingCode(v, f, m.processingCode);
  if (m.interface) checkInterface(v, f, m.interface);
  checkDependencies(v, f, m.dependencies);
  checkDocuments(v, f, m.documents);
  checkTextMax(v, f("readme"), m.readme, TEXT_MAX);
  if (m.template) checkTemplate(v, f, m.template);
  checkTextMax(v, f("initial_config"), m.initialConfig, TEXT_MAX);
}

/** The field path under the caller's prefix. */
type At = (name: string) => string;

/** Framework, runtime, algorithm, install types and metrics. */
function checkBasics(v: Violations, f: At, m: VersionMetadata): void {
  checkEnum(v, f("framework"), m.framework, FRAMEWORK_MAX, false);
  if (m.runtime !== "" && !RUNTIME.test(m.runtime)) v.add(f("runtime"), `"${printable(m.runtime)}" is not a runtime: at most 64 letters, digits, . _ - +`);
  if (m.algorithm !== "" && !ALGORITHM.test(m.algorithm))
    v.add(f("algorithm"), `"${printable(m.algorithm)}" is not an algorithm: 1-36 characters, a letter first, then letters, digits, _ -`);
  const installs = new Set<number>();
  m.installTypes.forEach((t, i) => {
    checkEnum(v, `${f("install_types")}[${i}]`, t, INSTALL_TYPE_MAX, true);
    if (installs.has(t)) v.add(`${f("install_types")}[${i}]`, "is repeated");
    installs.add(t);
  });
  const metricNames = Object.keys(m.metrics);
  if (metricNames.length > 64) v.add(f("metrics"), `has ${metricNames.length} entries; at most 64`);
  for (const [name, value] of Object.entries(m.metrics)) {
    if (!METRIC_NAME.test(name)) v.add(`${f("metrics")}["${printable(name, 40)}"]`, "is not a metric name: 1-64 characters, a letter first, then letters, digits, _ - . /");
    else if (!Number.isFinite(value)) v.add(`${f("metrics")}["${name}"]`, `${value} is not a finite number`);
  }
}

function checkProcessingCode(v: Violations, f: At, c: ProcessingCode): void {
  if ((c.preprocessing || c.postprocessing) && !LANGUAGE.test(c.language))
    v.add(f("processing_code.language"), `"${printable(c.language)}" is not a language name (e.g. python): required when code is given`);
  checkTextMax(v, f("processing_code.preprocessing"), c.preprocessing, TEXT_MAX);
  checkTextMax(v, f("processing_code.postprocessing"), c.postprocessing, TEXT_MAX);
  if (c.location !== "" && !isUri(c.location)) v.add(f("processing_code.location"), `"${printable(c.location)}" is not a URI: at most 2,048 characters, no spaces`);
}

function checkInterface(v: Violations, f: At, i: ModelInterface): void {
  checkParameters(v, f("interface.inputs"), i.inputs);
  checkParameters(v, f("interface.outputs"), i.outputs);
  if (i.apis.length > 32) v.add(f("interface.apis"), `has ${i.apis.length} entries; at most 32`);
  const routes = new Set<string>();
  i.apis.forEach((api, n) => {
    const at = `${f("interface.apis")}[${n}]`;
    checkRoute(v, at, api);
    const route = `${api.method.toUpperCase()} ${api.url}`;
    if (routes.has(route)) v.add(at, `${route} is listed twice`);
    routes.add(route);
    for (const [key, schema] of [
      ["input_schema", api.inputSchema],
      ["output_schema", api.outputSchema],
    ] as const) {
      if (schema === undefined) continue;
      checkJson(v, `${at}.${key}`, schema);
      if (api.lenient && schema.$schema === undefined) continue; // kept as written; marked by settleLenient()
      const problem = jsonSchemaProblem(schema);
      if (problem) v.add(`${at}.${key}`, `is not a valid JSON Schema: ${problem.slice(0, 300)}${lenientHint(api, schema)}`);
    }
  });
}

function lenientHint(api: ApiSpec, schema: JsonObject): string {
  if (schema.$schema !== undefined) return api.lenient ? " (it names its dialect with $schema, so it is checked even with lenient)" : "";
  return " (set lenient to keep it as written, e.g. from a ModelArts request)";
}

/**
 * The interface as stored: `lenient` stays set only where it kept something
 * the strict rules refuse (min/max on a parameter that is not INT or FLOAT,
 * a schema that is not valid JSON Schema), so on a read it says "not
 * strictly valid".
 */
export function settleLenient(i: ModelInterface): ModelInterface {
  const param = (p: InterfaceParameter): InterfaceParameter => ({ ...p, lenient: Boolean(p.lenient) && !NUMERIC_TYPES.has(p.type) && (p.min !== undefined || p.max !== undefined) });
  const api = (a: ApiSpec): ApiSpec => ({
    ...a,
    lenient: Boolean(a.lenient) && [a.inputSchema, a.outputSchema].some((schema) => schema !== undefined && jsonSchemaProblem(schema) !== undefined),
  });
  return { inputs: i.inputs.map(param), outputs: i.outputs.map(param), apis: i.apis.map(api) };
}

function checkDependencies(v: Violations, f: At, dependencies: Dependency[]): void {
  if (dependencies.length > 8) v.add(f("dependencies"), `has ${dependencies.length} groups; at most 8`);
  const installers = new Set<number>();
  dependencies.forEach((d, n) => {
    const at = `${f("dependencies")}[${n}]`;
    checkEnum(v, `${at}.installer`, d.installer, INSTALLER_MAX, true);
    if (installers.has(d.installer)) v.add(`${at}.installer`, "has a group already; put its packages in one group");
    installers.add(d.installer);
    if (d.packages.length > 256) v.add(`${at}.packages`, `has ${d.packages.length} packages; at most 256`);
    const names = new Set<string>();
    d.packages.forEach((p, k) => {
      const pat = `${at}.packages[${k}]`;
      if (!PACKAGE_NAME.test(p.name)) v.add(`${pat}.name`, `"${printable(p.name)}" is not a package name`);
      else if (names.has(p.name.toLowerCase())) v.add(`${pat}.name`, `"${p.name}" is listed twice`);
      names.add(p.name.toLowerCase());
      if (p.version !== "" && !PACKAGE_VERSION.test(p.version)) v.add(`${pat}.version`, `"${printable(p.version)}" is not a version: at most 64 characters, no spaces`);
      checkEnum(v, `${pat}.restraint`, p.restraint, RESTRAINT_MAX, false);
      if (p.version !== "" && p.restraint === 0) v.add(`${pat}.restraint`, "is required with a version: EXACT, ATLEAST or ATMOST");
      if (p.version === "" && p.restraint !== 0) v.add(`${pat}.version`, "is required with a restraint");
    });
  });
}

function checkDocuments(v: Violations, f: At, documents: Document[]): void {
  if (documents.length > 3) v.add(f("documents"), `has ${documents.length} links; at most 3`);
  const docNames = new Set<string>();
  documents.forEach((d, n) => {
    const at = `${f("documents")}[${n}]`;
    if (!DOCUMENT_NAME.test(d.name)) v.add(`${at}.name`, `"${printable(d.name)}" is not a document name: 1-48 characters, a letter first, then letters, digits, spaces, _ - .`);
    else if (docNames.has(d.name)) v.add(`${at}.name`, `"${d.name}" is used twice`);
    docNames.add(d.name);
    if (d.url.length > 2048 || !isUrl(d.url, ["http", "https"])) v.add(`${at}.url`, `"${printable(d.url)}" is not an http(s) URL`);
  });
}

function checkTemplate(v: Violations, f: At, t: VersionTemplate): void {
  if (!TEMPLATE_ID.test(t.id)) v.add(f("template.id"), `"${printable(t.id)}" is not a template id: 1-128 letters, digits, _ . / - (required with a template)`);
  if (t.inferFormat !== "" && !INFER_FORMAT.test(t.inferFormat)) v.add(f("template.infer_format"), `"${printable(t.inferFormat)}" is not an inference format: at most 64 letters, digits, _ . -`);
  const inputs = Object.entries(t.inputs);
  if (inputs.length > 64) v.add(f("template.inputs"), `has ${inputs.length} entries; at most 64`);
  for (const [key, value] of inputs) {
    if (!LABEL_KEY.test(key)) v.add(`${f("template.inputs")}["${printable(key, 40)}"]`, "is not an input id: 1-63 lowercase letters, digits, _ . / -, starting with a letter");
    else checkTextMax(v, `${f("template.inputs")}["${key}"]`, value, 1024);
  }
}
