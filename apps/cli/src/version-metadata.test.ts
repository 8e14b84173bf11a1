import { Framework } from "@modelreg/sdk";
import { describe, expect, it } from "vitest";
import { metricsNamed } from "./commands/versions.js";
import { metricMap, parseFramework, parseMetric, protoFieldName } from "./version-metadata.js";

describe("metadata flags", () => {
  it("take a framework by its name in any case, with or without the prefix", () => {
    expect(parseFramework("pytorch")).toBe(Framework.PYTORCH);
    expect(parseFramework("FRAMEWORK_ONNX")).toBe(Framework.ONNX);
    expect(parseFramework("tensorflow")).toBe(Framework.TENSORFLOW_SAVED_MODEL);
    expect(parseFramework("scikit-learn")).toBe(Framework.SCIKIT_LEARN);
    expect(parseFramework("keras")).toBe(Framework.H5);
    expect(() => parseFramework("unspecified")).toThrow(/expected one of pmml, h5/);
  });
  it("split metrics and refuse a name given twice", () => {
    expect(parseMetric("f1=0.88")).toEqual({ name: "f1", value: 0.88 });
    expect(parseMetric("eval/loss = 1e-3")).toEqual({ name: "eval/loss", value: 0.001 });
    for (const bad of ["f1", "=1", "f1=", "f1=high", "f1=Infinity"]) expect(() => parseMetric(bad), bad).toThrow(/name=number/);
    expect(() => metricMap([parseMetric("f1=1"), parseMetric("f1=2")])).toThrow(/given more than once/);
  });
  it("name mask paths by proto field name, whichever JSON spelling the file uses", () => {
    expect(protoFieldName("initialConfig")).toBe("initial_config");
    expect(protoFieldName("install_types")).toBe("install_types");
    expect(protoFieldName("whatever")).toBe("whatever");
  });
  it("find the metrics a query names, the order's first", () => {
    expect(metricsNamed({ orderBy: "metrics.auc desc", filter: "metrics.f1 > 0.8 AND labels.x = 1" })).toEqual(["auc", "f1"]);
    expect(metricsNamed({})).toEqual([]);
  });
});
