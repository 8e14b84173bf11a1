import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskType } from "@modelreg/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { settingValue } from "./render-tasks.js";
import { paramsFromFlags, parseBytes, parseDuration, parseSetting, parseTaskType, taskTypeWord, taskTypeWords } from "./task-flags.js";

describe("--set key=value", () => {
  it("reads the value as JSON when it parses, else as the text", () => {
    expect(["num_epochs=20", "lr_decay_epochs=[2,3]", "model=MobileNetV2", 'name="20"', "flag=true", "x=", "url=a=b", "n=null", 'o={"a":1}', "s= spaced "].map(parseSetting)).toEqual([
      { key: "num_epochs", value: 20 },
      { key: "lr_decay_epochs", value: [2, 3] },
      { key: "model", value: "MobileNetV2" },
      { key: "name", value: "20" },
      { key: "flag", value: true },
      { key: "x", value: "" },
      { key: "url", value: "a=b" },
      { key: "n", value: null },
      { key: "o", value: { a: 1 } },
      { key: "s", value: " spaced " },
    ]);
    expect(() => parseSetting("num_epochs")).toThrow("expected key=value");
    expect(() => parseSetting("=1")).toThrow("the param name is empty");
  });

  it("shows params so that --set reads them back the same", () => {
    for (const value of [20, [2, 3], "MobileNetV2", "20", "true", true, "", { a: 1 }, null, "x y"]) {
      expect(parseSetting(`k=${settingValue(value)}`).value, JSON.stringify(value)).toEqual(value);
    }
  });

  describe("with --params-file", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "cli-params-"));
      await writeFile(join(dir, "p.json"), '{"num_epochs": 4, "batch_size": 8}');
      await writeFile(join(dir, "list.json"), "[1, 2]");
    });
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it("takes the file's object, each --set over it; nothing given is undefined", async () => {
      const { io } = bufferIo({}, { cwd: dir });
      expect(await paramsFromFlags({ paramsFile: "p.json", set: [parseSetting("num_epochs=20")] }, io)).toEqual({ num_epochs: 20, batch_size: 8 });
      expect(await paramsFromFlags({}, io)).toBeUndefined();
      await expect(paramsFromFlags({ paramsFile: "list.json" }, io)).rejects.toThrow("list.json must hold a JSON object");
      await expect(paramsFromFlags({ paramsFile: "none.json" }, io)).rejects.toThrow("cannot read none.json: no such file");
    });
  });
});

describe("task types", () => {
  it("are named with dashes and read in any of the contract's spellings", () => {
    expect(taskTypeWords()).toEqual(["train", "evaluate", "prune-analysis", "prune-train", "predict", "convert"]);
    for (const text of ["prune-analysis", "PRUNE_ANALYSIS", "TASK_TYPE_PRUNE_ANALYSIS", "prune_analysis"]) expect(parseTaskType(text)).toBe(TaskType.PRUNE_ANALYSIS);
    expect(taskTypeWord(TaskType.PRUNE_TRAIN)).toBe("prune-train");
    expect(() => parseTaskType("fit")).toThrow("expected one of train, evaluate, prune-analysis, prune-train, predict, convert");
  });
});

describe("sizes and durations", () => {
  it("reads GPU memory in binary and decimal units", () => {
    expect(["8GiB", "8 GB", "512MiB", "1024", "1.5GiB", "2tib"].map(parseBytes)).toEqual([8n * 2n ** 30n, 8_000_000_000n, 512n * 2n ** 20n, 1024n, 3n * 2n ** 29n, 2n * 2n ** 40n]);
    for (const bad of ["8 gigs", "-1GiB", "GiB", ""]) expect(() => parseBytes(bad), bad).toThrow("expected a size");
  });

  it("reads grace periods", () => {
    expect(["30s", "500ms", "2m", "1m30s", "10", "0.5", "1h"].map(parseDuration)).toEqual([30_000, 500, 120_000, 90_000, 10_000, 500, 3_600_000]);
    for (const bad of ["30 s", "soon", "-1s", ""]) expect(() => parseDuration(bad), bad).toThrow("expected a duration");
  });
});
