// The rules of a version's metadata, without a database: one violation per
// bad field, under the caller's prefix.
import { describe, expect, it } from "vitest";
import { Violations } from "../shared/validation.js";
import { EMPTY_METADATA, normalizeMetadata, type VersionMetadata } from "./metadata.js";
import { checkMetadata, isUri, jsonSchemaProblem } from "./metadata-rules.js";

function fieldsOf(m: Partial<VersionMetadata>): string[] {
  const v = new Violations();
  checkMetadata(v, "version", { ...EMPTY_METADATA, ...m });
  return v.list.map((x) => x.field);
}

const param = { name: "x", type: 3, description: "", url: "", method: "", protocol: "" };

describe("checkMetadata", () => {
  it("accepts empty metadata", () => {
    expect(fieldsOf({})).toEqual([]);
  });
  it("checks framework, runtime, algorithm, install types and metrics", () => {
    expect(fieldsOf({ framework: 99, runtime: "a b", algorithm: "1x", installTypes: [1, 1, 9], metrics: { "1bad": 1, ok: Number.NaN } })).toEqual([
      "version.framework",
      "version.runtime",
      "version.algorithm",
      "version.install_types[1]",
      "version.install_types[2]",
      'version.metrics["1bad"]',
      'version.metrics["ok"]',
    ]);
  });
  it("checks processing code: a language when code is given, a URI location", () => {
    expect(fieldsOf({ processingCode: { language: "", preprocessing: "x = 1", postprocessing: "", location: "no uri" } })).toEqual([
      "version.processing_code.language",
      "version.processing_code.location",
    ]);
  });
  it("checks the interface: parameters, routes and JSON Schemas", () => {
    const iface = {
      inputs: [param, { ...param, type: 2, min: 1 }, { ...param, name: "y", min: 5, max: 1 }],
      outputs: [],
      apis: [
        { url: "/p", method: "POST", protocol: "http", inputSchema: { type: "nonsense" } },
        { url: "/p", method: "post", protocol: "http" },
        { url: "p", method: "FETCH", protocol: "ftp" },
      ],
    };
    expect(fieldsOf({ interface: iface })).toEqual([
      "version.interface.inputs[1].name",
      "version.interface.inputs[1].min",
      "version.interface.inputs[2].max",
      "version.interface.apis[0].input_schema",
      "version.interface.apis[1]",
      "version.interface.apis[2].url",
      "version.interface.apis[2].method",
      "version.interface.apis[2].protocol",
    ]);
  });
  it("checks dependencies: one group per installer, versions with restraints", () => {
    const deps = [
      { installer: 1, packages: [{ name: "numpy", version: "1.26", restraint: 0 }, { name: "NumPy", version: "", restraint: 0 }] },
      { installer: 1, packages: [{ name: "torch", version: "", restraint: 1 }] },
    ];
    expect(fieldsOf({ dependencies: deps })).toEqual([
      "version.dependencies[0].packages[0].restraint",
      "version.dependencies[0].packages[1].name",
      "version.dependencies[1].installer",
      "version.dependencies[1].packages[0].version",
    ]);
  });
  it("checks documents, the template and the text fields", () => {
    const docs = [
      { name: "Guide", url: "https://example.com/guide" },
      { name: "Guide", url: "ftp://example.com" },
    ];
    const template = { id: "", inferFormat: "a b", inputs: { Bad: "x", good: "y" } };
    expect(fieldsOf({ documents: docs, template, readme: "bell\x07", initialConfig: "x".repeat(65_537) })).toEqual([
      "version.documents[1].name",
      "version.documents[1].url",
      "version.readme",
      "version.template.id",
      "version.template.infer_format",
      'version.template.inputs["Bad"]',
      "version.initial_config",
    ]);
  });
});

describe("lenient parameters and API schemas (ModelArts requests as written)", () => {
  // As ModelArts' documents write them: min/max on a string parameter, a "file" type, `items` as a list.
  const text = { ...param, name: "data", type: 2, min: 0, max: 9 };
  const modelArtsSchemas = {
    url: "/",
    method: "post",
    protocol: "http",
    inputSchema: { type: "object", properties: { images: { type: "file" } } },
    outputSchema: { type: "object", properties: { detection_classes: { type: "array", items: [{ type: "string" }] } } },
  };

  it("refuses them without lenient, saying how to keep them", () => {
    const v = new Violations();
    checkMetadata(v, "version", { ...EMPTY_METADATA, interface: { inputs: [text], outputs: [], apis: [modelArtsSchemas] } });
    expect(v.list.map((x) => x.field)).toEqual([
      "version.interface.inputs[0].min",
      "version.interface.inputs[0].max",
      "version.interface.apis[0].input_schema",
      "version.interface.apis[0].output_schema",
    ]);
    expect(v.list.every((x) => x.description.includes("set lenient to keep it as written"))).toBe(true);
  });

  it("keeps them as written with lenient, and marks only what the strict rules refuse", () => {
    const valid = { url: "/ok", method: "post", protocol: "http", lenient: true, inputSchema: { type: "object" } };
    const m = { ...EMPTY_METADATA, interface: { inputs: [{ ...text, lenient: true }, { ...param, lenient: true }], outputs: [], apis: [{ ...modelArtsSchemas, lenient: true }, valid] } };
    expect(fieldsOf(m)).toEqual([]);
    const stored = normalizeMetadata(m).interface!;
    expect(stored.inputs.map((p) => [p.name, p.min, p.max, p.lenient])).toEqual([
      ["data", 0, 9, true],
      ["x", undefined, undefined, false],
    ]);
    expect(stored.apis.map((a) => a.lenient)).toEqual([true, false]);
    expect(stored.apis[0]!.inputSchema).toEqual(modelArtsSchemas.inputSchema);
    expect(stored.apis[0]!.outputSchema).toEqual(modelArtsSchemas.outputSchema);
  });

  it("still checks a schema that names its dialect, a NUL, and max below min", () => {
    const declared = { ...modelArtsSchemas, lenient: true, inputSchema: { $schema: "https://json-schema.org/draft/2020-12/schema", type: "file" }, outputSchema: { "k\u0000": 1 } };
    const v = new Violations();
    checkMetadata(v, "version", { ...EMPTY_METADATA, interface: { inputs: [{ ...text, min: 9, max: 0, lenient: true }], outputs: [], apis: [declared] } });
    expect(v.list.map((x) => x.field)).toEqual(["version.interface.inputs[0].max", "version.interface.apis[0].input_schema", 'version.interface.apis[0].output_schema["k\\u0000"]']);
    expect(v.list[1]!.description).toMatch(/names its dialect with \$schema, so it is checked even with lenient/);
  });
});

describe("Struct values (preprocessing parameters, API schemas)", () => {
  it("refuses a NUL or half a surrogate pair in a key or a string, naming its path, as jsonb cannot hold them", () => {
    const v = new Violations();
    const api = { url: "/p", method: "POST", protocol: "http", inputSchema: { type: "object", properties: { "x\u0000": { type: "string" } } }, outputSchema: { enum: ["ok", "\ud800"] } };
    checkMetadata(v, "version", {
      ...EMPTY_METADATA,
      preprocessingParameters: { "a\u0000": 1, b: { c: ["fine", "nul\u0000"] }, d: "pair \ud83d\ude00 is fine" },
      interface: { inputs: [], outputs: [], apis: [api] },
    });
    expect(v.list.map((x) => x.field)).toEqual([
      'version.preprocessing_parameters["a\\u0000"]',
      'version.preprocessing_parameters["b"]["c"][1]',
      'version.interface.apis[0].input_schema["properties"]["x\\u0000"]',
      "version.interface.apis[0].output_schema[\"enum\"][1]",
    ]);
    expect(v.list[0]!.description).toBe("key contains a NUL character (\\u0000), which cannot be stored; remove it");
    expect(v.list[3]!.description).toMatch(/half of a UTF-16 surrogate pair/);
  });

  it("names at most ten of them", () => {
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, "\u0000"]));
    expect(fieldsOf({ preprocessingParameters: many })).toHaveLength(10);
  });
});

it("knows a usable JSON Schema and a URI", () => {
  expect(jsonSchemaProblem({ type: "object", properties: { x: { type: "number" } } })).toBeUndefined();
  expect(jsonSchemaProblem({ $schema: "http://json-schema.org/draft-07/schema#", type: "string" })).toBeUndefined();
  expect(jsonSchemaProblem({ type: 3 })).toMatch(/type/);
  // A schema with an $id, checked again (another version, an update): still usable, not a duplicate.
  for (let i = 0; i < 2; i++) expect(jsonSchemaProblem({ $id: "https://example.com/request.json", type: "object" })).toBeUndefined();
  expect([isUri("s3://bucket/key"), isUri("https://x.org/a"), isUri("no scheme"), isUri("/path")]).toEqual([true, true, false, false]);
});
