// The CLI names and reads enum values from the generated descriptors: a
// value added to the proto is shown, listed in help and accepted, with no
// edit to the CLI.
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ExportState, Framework, FrameworkSchema, VersionState } from "@modelreg/sdk";
import { expect, it } from "vitest";
import { enumWord, enumWords, parseEnumWord } from "./enum-words.js";
import { frameworkName, versionStateName } from "./output.js";
import { exportStateName } from "./render-exports.js";
import { frameworkNames, parseFramework } from "./version-metadata.js";

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

it("names, lists and reads any enum's values, new ones included", () => {
  const color = colorEnum();
  expect(enumWords(color)).toEqual(["red", "deep_blue"]);
  expect([enumWord(color, 7), enumWord(color, 0), enumWord(color, 9)]).toEqual(["deep_blue", "-", "9"]);
  expect(["deep-blue", "DEEP_BLUE", "COLOR_DEEP_BLUE", " Deep Blue "].map((t) => parseEnumWord(color, t))).toEqual([7, 7, 7, 7]);
  expect([parseEnumWord(color, "unspecified"), parseEnumWord(color, "green")]).toEqual([undefined, undefined]);
});

it("shows and accepts every framework the contract has", () => {
  const values = FrameworkSchema.values.filter((v) => v.number !== 0);
  expect(frameworkNames()).toHaveLength(values.length);
  for (const v of values) {
    expect(parseFramework(frameworkName(v.number))).toBe(v.number);
    expect(parseFramework(v.name)).toBe(v.number);
  }
  expect(parseFramework("sklearn")).toBe(Framework.SCIKIT_LEARN);
});

it("names version and export states from the contract", () => {
  expect([versionStateName(VersionState.PENDING), versionStateName(VersionState.READY), versionStateName(VersionState.UNSPECIFIED)]).toEqual(["pending", "ready", "-"]);
  expect([exportStateName(ExportState.SUCCEEDED), exportStateName(ExportState.UNSPECIFIED)]).toEqual(["succeeded", "-"]);
});
