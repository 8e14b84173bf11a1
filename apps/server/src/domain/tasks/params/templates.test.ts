// The built-in templates: well-formed, their defaults valid against their
// own schemas, PaddleX's values where the RESTful API has them.
import { describe, expect, it } from "vitest";
import { violationsOf } from "../../../testing/violations.js";
import { checkTemplateSchema, defaultParams, resolveParams } from "./schema.js";
import { BUILT_IN_TEMPLATES, builtInTemplate, TASK_TYPES } from "./templates.js";

const tpl = (type: string, id = "") => {
  const t = builtInTemplate(type, id);
  if (!t) throw new Error(`no built-in template ${type}/${id}`);
  return t;
};

describe("BUILT_IN_TEMPLATES", () => {
  it.each(BUILT_IN_TEMPLATES.map((t) => [`${t.types.join(",")}/${t.id}`, t] as const))("%s is a closed draft 2020-12 object schema, every property typed, described and defaulted", (_, t) => {
    expect(t.schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(t.schema.type).toBe("object");
    expect(t.schema.additionalProperties).toBe(false);
    const properties = t.schema.properties as Record<string, Record<string, unknown>>;
    expect(Object.keys(properties).length).toBeGreaterThan(0);
    for (const [key, p] of Object.entries(properties)) {
      expect(typeof p.description, key).toBe("string");
      expect((p.description as string).length, key).toBeGreaterThan(5);
      expect(typeof p.type, key).toBe("string");
      expect(Object.hasOwn(p, "default"), key).toBe(true);
    }
    expect(t.description).not.toBe("");
  });

  it.each(BUILT_IN_TEMPLATES.map((t) => [`${t.types.join(",")}/${t.id}`, t] as const))("%s: its defaults validate against its own schema, every conditional branch's too", (_, t) => {
    expect(violationsOf(() => checkTemplateSchema(t.schema, "template.schema"))).toEqual([]);
    expect(resolveParams(t, {})).toEqual(defaultParams(t));
  });

  it("gives every task type a default template, found by type and id together", () => {
    for (const type of TASK_TYPES) expect(builtInTemplate(type, "")?.types).toContain(type);
    expect(tpl("TRAIN").id).toBe("classification");
    expect(tpl("PRUNE_TRAIN").id).toBe("classification");
    expect(tpl("EVALUATE").id).toBe("default");
    expect(tpl("TRAIN", "detection").types).toEqual(["TRAIN"]);
    expect(tpl("PRUNE_TRAIN", "segmentation").types).toEqual(["PRUNE_TRAIN"]);
    expect(builtInTemplate("EVALUATE", "classification")).toBeUndefined();
    expect(builtInTemplate("TRAIN", "default")).toBeUndefined();
    expect(builtInTemplate("DANCE", "")).toBeUndefined();
  });

  it("is frozen: a request cannot change a template for the next one", () => {
    const t = tpl("TRAIN");
    expect(() => {
      (t.schema.properties as Record<string, Record<string, unknown>>).batch_size!.default = 64;
    }).toThrow(TypeError);
    expect(defaultParams(t).batch_size).toBe(2);
  });
});

describe("PaddleX's defaults", () => {
  it("classification: params.py's schedule, MobileNetV2 at 224×224", () => {
    expect(defaultParams(tpl("TRAIN", "classification"))).toMatchObject({
      model: "MobileNetV2",
      batch_size: 2,
      num_epochs: 4,
      learning_rate: 0.000125,
      lr_decay_epochs: [2, 3],
      lr_decay_gamma: 0.1,
      warmup_steps: 0,
      warmup_start_lr: 0,
      save_interval_epochs: 1,
      pretrain_weights: "IMAGENET",
      image_shape: [224, 224],
      resume_checkpoint: "",
      use_gpu: true,
      cpu_num: 1,
      gpu_list: [0],
      lr_policy: "Piecewise",
    });
  });
  it("detection: YOLOv3 on DarkNet53 at 608×608; segmentation: DeepLabv3p at 512×512", () => {
    expect(defaultParams(tpl("TRAIN", "detection"))).toMatchObject({ model: "YOLOv3", backbone: "DarkNet53", image_shape: [608, 608], learning_rate: 0.000125, warmup_steps: 10 });
    expect(defaultParams(tpl("TRAIN", "segmentation"))).toMatchObject({ model: "DeepLabv3p", backbone: "Xception65", image_shape: [512, 512], image_mean: [0.5, 0.5, 0.5] });
  });
  it("PRUNE_TRAIN adds the pruning parameters to the TRAIN ones", () => {
    const train = defaultParams(tpl("TRAIN", "detection"));
    const prune = defaultParams(tpl("PRUNE_TRAIN", "detection"));
    expect(prune).toEqual({ ...train, sensitivities_path: "", pruned_flops: 0.2 });
    expect(train).not.toHaveProperty("pruned_flops");
  });
  it("the other types", () => {
    expect(defaultParams(tpl("EVALUATE"))).toEqual({ batch_size: 1, metrics: ["accuracy", "confusion_matrix"], topk: 5, score_threshold: 0.3, overlap_thresh: 0.5 });
    expect(defaultParams(tpl("PRUNE_ANALYSIS"))).toMatchObject({ batch_size: 8, criterion: "l1_norm" });
    expect(defaultParams(tpl("PRUNE_ANALYSIS")).ratios).toHaveLength(9);
    expect(defaultParams(tpl("PREDICT"))).toEqual({ batch_size: 1, score_threshold: 0.5, topk: 1 });
    expect(defaultParams(tpl("CONVERT"))).toEqual({ format: "inference", lite_target: "arm", quantize: false, quant_type: "int8", image_shape: [], batch_size: 1 });
  });
});
