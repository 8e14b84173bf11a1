// resolveParams and checkTemplateSchema: defaults filled, every bad field
// named by its path with what to fix, workspace templates checked.
import { describe, expect, it } from "vitest";
import { violatedFields, violationsOf } from "../../../testing/violations.js";
import { checkTemplateSchema, defaultParams, resolveParams } from "./schema.js";
import { builtInTemplate, type ParamTemplate } from "./templates.js";

const tpl = (type: string, id = "") => builtInTemplate(type, id)!;
const cls = tpl("TRAIN", "classification");
const det = tpl("TRAIN", "detection");

/** The one violation's description for `field`. */
function said(fn: () => unknown, field: string): string {
  const found = violationsOf(fn).filter((v) => v.field === field);
  expect(found, field).toHaveLength(1);
  return found[0]!.description;
}

describe("resolveParams fills defaults", () => {
  it("keeps what is given, fills the rest, and leaves the input alone", () => {
    const given = { batch_size: 8, image_shape: [320, 320] };
    const before = structuredClone(given);
    const filled = resolveParams(cls, given);
    expect(given).toEqual(before);
    expect(filled).toEqual({ ...defaultParams(cls), batch_size: 8, image_shape: [320, 320] });
    (filled.image_shape as number[])[0] = 1;
    (filled.lr_decay_epochs as number[]).push(99);
    expect(given.image_shape).toEqual([320, 320]);
    expect(defaultParams(cls).lr_decay_epochs).toEqual([2, 3]);
  });
  it("fills the chosen model's own defaults before the template-wide ones", () => {
    expect(resolveParams(det, { model: "FasterRCNN" })).toMatchObject({ backbone: "ResNet50", image_shape: [800, 1333], brightness: false, hue: false });
    expect(resolveParams(det, { model: "PPYOLO" })).toMatchObject({ backbone: "ResNet50_vd_ssld", image_shape: [608, 608], hue: true });
    expect(resolveParams(det, { model: "MaskRCNN", image_shape: [640, 640] })).toMatchObject({ backbone: "ResNet50", image_shape: [640, 640] });
    expect(resolveParams(tpl("TRAIN", "segmentation"), { model: "UNet" }).pretrain_weights).toBe("COCO");
    expect(resolveParams(tpl("TRAIN", "segmentation"), { model: "FastSCNN" }).pretrain_weights).toBe("CITYSCAPES");
  });
});

describe("resolveParams refuses", () => {
  it("each unknown key, suggesting the near one", () => {
    const fn = () => resolveParams(cls, { lerning_rate: 0.1, colour: "red", batch_size: 4 });
    expect(violatedFields(fn)).toEqual(["params.lerning_rate", "params.colour"]);
    expect(said(fn, "params.lerning_rate")).toMatch(/not a parameter of this template; did you mean learning_rate\?/);
  });
  it("wrong types, naming nested array positions, all at once", () => {
    const fn = () => resolveParams(cls, { batch_size: "8", image_shape: [224, "x"], use_gpu: "yes", model: "ResNet9", gpu_list: [0, 0] });
    expect(violatedFields(fn).sort()).toEqual(["params.batch_size", "params.gpu_list", "params.image_shape[1]", "params.model", "params.use_gpu"]);
    expect(said(fn, "params.batch_size")).toBe('"8" is a string; expected an integer from 1 to 1024');
    expect(said(fn, "params.image_shape[1]")).toBe('"x" is a string; expected an integer from 32 to 8192');
    expect(said(fn, "params.use_gpu")).toBe('"yes" is a string; expected true or false');
    expect(said(fn, "params.model")).toMatch(/^"ResNet9" is not allowed; expected one of "MobileNetV2", .*"AlexNet"$/);
    expect(said(fn, "params.gpu_list")).toMatch(/^items 0 and 1 are the same; expected an array of 1 to 64 items, each an integer from 0 to 63, no item repeated$/);
  });
  it("values out of range, fractions, wrong lengths, nulls", () => {
    const fn = () => resolveParams(det, { learning_rate: 0, num_epochs: 2.5, image_shape: [608], random_shape_sizes: [320, 330], hue_prob: null });
    expect(said(fn, "params.learning_rate")).toBe("0 is out of range; expected a number greater than 0 and at most 10");
    expect(said(fn, "params.num_epochs")).toBe("2.5 is not a whole number; expected an integer from 1 to 10000");
    expect(said(fn, "params.image_shape")).toBe("has 1 item; expected an array of exactly 2 items, each an integer from 32 to 8192");
    expect(said(fn, "params.random_shape_sizes[1]")).toBe("330 is not a multiple of 32; expected an integer from 32 to 8192, a multiple of 32");
    expect(said(fn, "params.hue_prob")).toMatch(/^is null \(leave the parameter out to get its default\); expected a number from 0 to 1$/);
  });
  it("a backbone the chosen model does not have, saying which it has", () => {
    const fn = () => resolveParams(det, { model: "YOLOv3", backbone: "ResNet50" });
    expect(said(fn, "params.backbone")).toBe('"ResNet50" is not allowed when model is "YOLOv3"; expected one of "DarkNet53", "ResNet34", "MobileNetV1", "MobileNetV3_large"');
    expect(resolveParams(det, { model: "FasterRCNN", backbone: "ResNet50_vd_ssld" }).backbone).toBe("ResNet50_vd_ssld");
    expect(violatedFields(() => resolveParams(det, { model: "MaskRCNN", backbone: "ResNet50_vd_ssld" }))).toEqual(["params.backbone"]);
    expect(said(() => resolveParams(tpl("TRAIN", "segmentation"), { model: "HRNet" }), "params.model")).toMatch(/^"HRNet" is not allowed \(did you mean "HRNet_W18"\?\); expected one of /);
  });
  it("odd keys quoted, and the prefix the caller names", () => {
    expect(violatedFields(() => resolveParams(cls, { "bad key": 1 }))).toEqual(['params["bad key"]']);
    expect(violatedFields(() => resolveParams(cls, { foo: 1 }, "task.params"))).toEqual(["task.params.foo"]);
    expect(violatedFields(() => resolveParams(cls, { __proto__: 1 } as Record<string, unknown>))).toEqual([]);
    expect(violatedFields(() => resolveParams(cls, JSON.parse('{"__proto__": {"x": 1}}')))).toEqual(["params.__proto__"]);
  });
  it("params that are not an object, or too large", () => {
    expect(violatedFields(() => resolveParams(cls, [] as unknown as Record<string, unknown>))).toEqual(["params"]);
    expect(said(() => resolveParams(cls, { resume_checkpoint: "x".repeat(70_000) }), "params")).toMatch(/bytes as JSON; at most 65536/);
  });
});

describe("resolveParams ties fields together", () => {
  it("lr_decay_epochs: strictly ascending, each below num_epochs", () => {
    expect(resolveParams(cls, { num_epochs: 10, lr_decay_epochs: [1, 9] }).lr_decay_epochs).toEqual([1, 9]);
    expect(said(() => resolveParams(cls, { lr_decay_epochs: [3, 2] }), "params.lr_decay_epochs")).toBe(
      "[3,2]: 2 does not come after 3; expected strictly ascending epochs, each below num_epochs (4): lower them, or raise num_epochs",
    );
    expect(said(() => resolveParams(cls, { lr_decay_epochs: [2, 5] }), "params.lr_decay_epochs")).toMatch(/^\[2,5\]: 5 is not below num_epochs \(4\);/);
    // Lowering num_epochs alone breaks the default decay epochs: named, with the way out.
    expect(said(() => resolveParams(cls, { num_epochs: 2 }), "params.lr_decay_epochs")).toMatch(/2 is not below num_epochs \(2\); 3 is not below num_epochs \(2\); .*raise num_epochs/);
  });
  it("does not judge a field the schema refused already", () => {
    expect(violatedFields(() => resolveParams(cls, { lr_decay_epochs: [3, "2"] }))).toEqual(["params.lr_decay_epochs[1]"]);
    expect(violatedFields(() => resolveParams(cls, { num_epochs: 0, lr_decay_epochs: [3, 2] }))).toEqual(["params.num_epochs"]);
  });
  it("CONVERT image_shape: [] or [width, height]", () => {
    const convert = tpl("CONVERT");
    expect(resolveParams(convert, { image_shape: [224, 224] }).image_shape).toEqual([224, 224]);
    expect(said(() => resolveParams(convert, { image_shape: [224] }), "params.image_shape")).toMatch(/expected \[width, height\], or \[\] to keep the input size dynamic/);
  });
  it("other types' lists", () => {
    expect(violatedFields(() => resolveParams(tpl("EVALUATE"), { metrics: ["accuracy", "f1", "accuracy"] }))).toEqual(["params.metrics[1]", "params.metrics"]);
    expect(said(() => resolveParams(tpl("PRUNE_TRAIN"), { pruned_flops: 1 }), "params.pruned_flops")).toBe("1 is out of range; expected a number greater than 0 and less than 1");
  });
});

describe("checkTemplateSchema", () => {
  const good = {
    type: "object",
    additionalProperties: false,
    properties: {
      epochs: { type: "integer", minimum: 1, default: 10, description: "Epochs." },
      mode: { type: "string", enum: ["fast", "slow"], default: "fast", description: "Mode." },
      dataset: { type: "string", description: "Required: no default." },
    },
    required: ["dataset"],
  };
  const workspace = (schema: Record<string, unknown>): ParamTemplate => ({ id: "mine", description: "", types: ["TRAIN"], schema });

  it("accepts a well-formed schema, which then resolves params, required ones included", () => {
    expect(violationsOf(() => checkTemplateSchema(good, "template.schema"))).toEqual([]);
    expect(resolveParams(workspace(structuredClone(good)), { dataset: "d" })).toEqual({ epochs: 10, mode: "fast", dataset: "d" });
    expect(said(() => resolveParams(workspace(structuredClone(good)), {}), "params.dataset")).toBe("is required");
  });
  it("refuses a default that does not validate, naming where it is", () => {
    const bad = structuredClone(good);
    bad.properties.epochs.default = 0;
    expect(violationsOf(() => checkTemplateSchema(bad, "template.schema"))).toEqual([
      { field: "template.schema.properties.epochs.default", description: "the default 0 is out of range; expected an integer at least 1" },
    ]);
  });
  it("refuses a bad default inside a conditional branch, and defaults breaking a cross-field rule", () => {
    const condition = { if: { properties: { mode: { const: "slow" } }, required: ["mode"] } };
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords
    const branch = { ...good, allOf: [{ ...condition, then: { properties: { epochs: { default: -1 } } } }] };
    expect(violatedFields(() => checkTemplateSchema(branch, "t"))).toEqual(["t.allOf[0].then.properties.epochs.default"]);
    const decay = {
      type: "object",
      additionalProperties: false,
      properties: { num_epochs: { type: "integer", default: 2, description: "n" }, lr_decay_epochs: { type: "array", items: { type: "integer" }, default: [2, 3], description: "d" } },
    };
    expect(violatedFields(() => checkTemplateSchema(decay, "t"))).toEqual(["t.properties.lr_decay_epochs.default"]);
  });
  it("refuses what is not a closed object schema", () => {
    expect(violatedFields(() => checkTemplateSchema("x", "t"))).toEqual(["t"]);
    expect(violatedFields(() => checkTemplateSchema({ type: "array", items: {} }, "t"))).toEqual(["t.type", "t.properties", "t.additionalProperties"]);
    expect(violatedFields(() => checkTemplateSchema({ ...good, additionalProperties: true }, "t"))).toEqual(["t.additionalProperties"]);
    expect(violatedFields(() => checkTemplateSchema({ ...good, $schema: "http://json-schema.org/draft-07/schema#" }, "t"))).toEqual(["t.$schema"]);
  });
  it("refuses invalid JSON Schema at its place, an unresolvable $ref, and more than 64 KiB", () => {
    const typo = { ...good, properties: { ...good.properties, epochs: { type: "nonsense", default: 1 } } };
    expect(violatedFields(() => checkTemplateSchema(typo, "t"))).toEqual(["t.properties.epochs.type"]);
    const ref = { ...good, properties: { x: { $ref: "#/$defs/missing", default: 1 } } };
    expect(said(() => checkTemplateSchema(ref, "t"), "t")).toMatch(/^is not a usable JSON Schema: /);
    const big = { ...good, properties: { ...good.properties, note: { type: "string", default: "x".repeat(70_000), description: "n" } } };
    expect(said(() => checkTemplateSchema(big, "t"), "t")).toMatch(/bytes as JSON; at most 65536/);
  });
  it("takes the same $id twice (ajv keeps no schema between calls)", () => {
    const withId = { ...good, $id: "https://example.com/params.json" };
    expect(violationsOf(() => checkTemplateSchema(withId, "t"))).toEqual([]);
    expect(violationsOf(() => checkTemplateSchema({ ...withId, description: "again" }, "t"))).toEqual([]);
    expect(resolveParams(workspace({ ...withId, title: "third" }), { dataset: "d" }).epochs).toBe(10);
  });
});
