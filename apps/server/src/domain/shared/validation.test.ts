import { describe, expect, it } from "vitest";
import { checkDescription, checkLabels, checkModelId, checkPageSize, checkRequestId, Violations } from "./validation.js";

function run(fn: (v: Violations) => void) {
  const v = new Violations();
  fn(v);
  return v.list;
}

describe("model ids", () => {
  it("accepts 1-64 letters, digits, - and _, starting with a letter", () => {
    for (const ok of ["a", "fraud-detector", "Fraud_Detector2", "x".repeat(64)]) expect(run((v) => checkModelId(v, "model_id", ok))).toEqual([]);
  });
  it("refuses the rest", () => {
    for (const bad of ["", "1abc", "-a", "a b", "a.b", "x".repeat(65), "é", "a/b"]) {
      const list = run((v) => checkModelId(v, "model_id", bad));
      expect(list, bad).toHaveLength(1);
      expect(list[0]!.field).toBe("model_id");
    }
  });
});

describe("descriptions", () => {
  it("allow 1,000 characters with tabs and newlines", () => {
    expect(run((v) => checkDescription(v, "d", `${"é".repeat(998)}\n\t`))).toEqual([]);
  });
  it("refuse longer text and control characters", () => {
    expect(run((v) => checkDescription(v, "d", "x".repeat(1001)))[0]!.description).toMatch(/1001 characters long; the limit is 1000/);
    expect(run((v) => checkDescription(v, "d", "bell\x07"))[0]!.description).toMatch(/control characters/);
  });
});

describe("labels", () => {
  it("check keys, values and count", () => {
    expect(run((v) => checkLabels(v, "model.labels", { team: "fraud", "k8s.io/app": "x" }))).toEqual([]);
    expect(run((v) => checkLabels(v, "model.labels", { Team: "x" }))[0]!.field).toBe('model.labels["Team"]');
    expect(run((v) => checkLabels(v, "model.labels", { team: "x".repeat(256) }))[0]!.description).toMatch(/longer than 255/);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    expect(run((v) => checkLabels(v, "model.labels", many))[0]!.description).toMatch(/65 entries; the limit is 64/);
  });
});

describe("page size", () => {
  it("defaults, caps and refuses negatives", () => {
    expect(checkPageSize(new Violations(), 0)).toBe(50);
    expect(checkPageSize(new Violations(), 5000)).toBe(1000);
    const v = new Violations();
    checkPageSize(v, -1);
    expect(v.list[0]!.field).toBe("page_size");
  });
});

describe("request ids", () => {
  it("are optional, or 1-64 letters, digits, - and _", () => {
    for (const ok of ["", "a", "0190b6d2-7a1c-4c55-9e0e-6f1b2c3d4e5f", "x_Y-9".repeat(12)]) expect(run((v) => checkRequestId(v, ok)), ok).toEqual([]);
  });
  it("refuse anything else, naming the field", () => {
    for (const bad of ["x".repeat(65), "a b", "a/b", "é"]) expect(run((v) => checkRequestId(v, bad)).map((x) => x.field), bad).toEqual(["request_id"]);
  });
});
