import { describe, expect, it } from "vitest";
import { UsageError } from "./exit-codes.js";
import { buildUpdate } from "./update-mask.js";

describe("buildUpdate", () => {
  it("names only the fields whose flags were given", () => {
    expect(buildUpdate({ description: "v2" })).toEqual({ paths: ["description"], fields: { description: "v2" } });
    expect(buildUpdate({ label: [{ key: "a", value: "1" }] })).toEqual({ paths: ["labels"], fields: { labels: { a: "1" } } });
    expect(buildUpdate({ description: "d", label: [{ key: "a", value: "1" }] }).paths).toEqual(["description", "labels"]);
  });

  it("clears the description with an empty --description", () => {
    expect(buildUpdate({ description: "" })).toEqual({ paths: ["description"], fields: { description: "" } });
  });

  it("clears every label with --clear-labels", () => {
    expect(buildUpdate({ clearLabels: true })).toEqual({ paths: ["labels"], fields: { labels: {} } });
  });

  it("refuses an update that changes nothing", () => {
    expect(() => buildUpdate({})).toThrow(UsageError);
    expect(() => buildUpdate({ label: [] })).toThrow(/nothing to update/);
  });

  it("refuses --label together with --clear-labels, and duplicate keys", () => {
    expect(() => buildUpdate({ clearLabels: true, label: [{ key: "a", value: "1" }] })).toThrow(/cannot be combined/);
    expect(() => buildUpdate({ label: [{ key: "a", value: "1" }, { key: "a", value: "2" }] })).toThrow(/more than once/);
  });
});
