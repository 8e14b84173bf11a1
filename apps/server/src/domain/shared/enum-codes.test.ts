// The filter names of the contract's enums come from the generated
// descriptors: any enum, any value the proto adds, with no copy to update.
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ExportFormatSchema, ExportStateSchema, Framework, FrameworkSchema, LifecycleSchema, VersionStateSchema } from "@modelreg/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../../testing/test-app.js";
import { enumChoices, enumCodes, enumName } from "./enum-codes.js";

/** An enum the contract does not have: what a value added to the proto looks like to the code. */
function colorEnum() {
  const file = create(FileDescriptorProtoSchema, {
    name: "test/color.proto",
    package: "test",
    syntax: "proto3",
    enumType: [{ name: "Color", value: [{ name: "COLOR_UNSPECIFIED", number: 0 }, { name: "COLOR_RED", number: 1 }, { name: "COLOR_DEEP_BLUE", number: 7 }] }],
  });
  return createFileRegistry(file, () => undefined).getEnum("test.Color")!;
}

describe("enum codes", () => {
  it("name every value but UNSPECIFIED without the enum's prefix", () => {
    expect(enumCodes(colorEnum())).toEqual({ RED: 1, DEEP_BLUE: 7 });
    expect(enumName(colorEnum(), 7)).toBe("DEEP_BLUE");
    expect(enumName(colorEnum(), 9)).toBe("9");
    expect(enumChoices(colorEnum())).toBe("RED or DEEP_BLUE");
    expect(enumChoices(ExportFormatSchema)).toBe("TAR, TAR_GZ or ZIP");
    expect(enumCodes(FrameworkSchema).PYTORCH).toBe(Framework.PYTORCH);
    expect(Object.keys(enumCodes(FrameworkSchema))).toHaveLength(FrameworkSchema.values.length - 1);
  });
});

describe("every value of every filterable enum is accepted by the filters", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite");
    await t.client.models.createModel({ parent: "workspaces/default", modelId: "m" });
    await t.client.versions.createVersion({ parent: "workspaces/default/models/m", versionId: "1.0.0", version: { framework: Framework.ONNX } });
  }, 60_000);
  afterAll(async () => t?.close());

  // The one version is ONNX, PENDING (no files) and ACTIVE: each filter finds it under that value alone.
  const cases = [
    ["framework", FrameworkSchema, "ONNX"],
    ["state", VersionStateSchema, "PENDING"],
    ["lifecycle", LifecycleSchema, "ACTIVE"],
  ] as const;
  for (const [field, desc, its] of cases) {
    it(`ListVersions: ${field}`, async () => {
      for (const name of Object.keys(enumCodes(desc))) {
        const res = await t.client.versions.listVersions({ parent: "workspaces/default/models/m", filter: `${field} = ${name}` });
        expect(res.versions.map((v) => v.version), name).toEqual(name === its ? ["1.0.0"] : []);
      }
    });
  }
  for (const [field, desc] of [["state", ExportStateSchema], ["format", ExportFormatSchema]] as const) {
    it(`ListExports: ${field}`, async () => {
      // Accepted (an unknown name is InvalidArgument), and nothing matches: the model has no exports.
      for (const name of Object.keys(enumCodes(desc))) {
        const res = await t.client.exports.listExports({ parent: "workspaces/default/models/m/versions/-", filter: `${field} = ${name}` });
        expect(res.exports, name).toEqual([]);
      }
    });
  }
});
