// The rules of a version's metadata, without a database: one violation per
// bad field, under the caller's prefix.
import { describe, expect, it } from "vitest";
import { Violations } from "../shared/validation.js";
import { EMPTY_METADATA, type VersionMetadata } from "./metadata.js";
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

it("knows a usable JSON Schema and a URI", () => {
  expect(jsonSchemaProblem({ type: "object", properties: { x: { type: "number" } } })).toBeUndefined();
  expect(jsonSchemaProblem({ $schema: "http://json-schema.org/draft-07/schema#", type: "string" })).toBeUndefined();
  expect(jsonSchemaProblem({ type: 3 })).toMatch(/type/);
  expect([isUri("s3://bucket/key"), isUri("https://x.org/a"), isUri("no scheme"), isUri("/path")]).toEqual([true, true, false, false]);
});
