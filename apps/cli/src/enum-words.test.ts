// The CLI names and reads enum values from the generated descriptors: a
// value added to the proto is shown, listed in help and accepted, with no
// edit to the CLI.
import { CheckpointStateSchema, ExportState, ExportStateSchema, Framework, FrameworkSchema, LifecycleSchema, TaskState, TaskStateSchema, TaskTypeSchema, VersionState, VersionStateSchema } from "@modelreg/sdk";
import { expect, it } from "vitest";
import { enumWord, enumWords, parseEnumWord } from "./enum-words.js";
import { frameworkName, versionStateName } from "./output.js";
import { exportStateName } from "./render-exports.js";
import { taskStateName } from "./render-tasks.js";
import { parseTaskType, taskTypeWord } from "./task-flags.js";
import { frameworkNames, parseFramework } from "./version-metadata.js";

/** Every enum the CLI shows: a value the proto adds is in these descriptors, and so in these tests. */
const SHOWN = [FrameworkSchema, VersionStateSchema, ExportStateSchema, LifecycleSchema, TaskTypeSchema, TaskStateSchema, CheckpointStateSchema];

it("names, lists and reads every value of every enum it shows, from the descriptors", () => {
  for (const desc of SHOWN) {
    const values = desc.values.filter((v) => v.number !== 0);
    expect(enumWords(desc), desc.typeName).toHaveLength(values.length);
    for (const v of values) {
      const word = enumWord(desc, v.number);
      expect(word, v.name).toBe(word.toLowerCase());
      expect(enumWords(desc)).toContain(word);
      expect([parseEnumWord(desc, word), parseEnumWord(desc, v.name), parseEnumWord(desc, word.replace(/_/g, "-"))], v.name).toEqual([v.number, v.number, v.number]);
    }
    expect([enumWord(desc, 0), enumWord(desc, 999), parseEnumWord(desc, "unspecified"), parseEnumWord(desc, "nonsense")]).toEqual(["-", "999", undefined, undefined]);
  }
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

it("names and reads every task type and state from the contract", () => {
  for (const v of TaskTypeSchema.values.filter((x) => x.number !== 0)) expect(parseTaskType(taskTypeWord(v.number))).toBe(v.number);
  expect([taskStateName(TaskState.STOPPING), taskStateName(TaskState.UNSPECIFIED)]).toEqual(["stopping", "-"]);
});
