// adjustBatchSize: PaddleX's figures (YOLOv3: 1555 MiB fixed, 943 MiB per
// 608×608 image), a GiB kept free per GPU, the batch only ever lowered.
import { describe, expect, it } from "vitest";
import { adjustBatchSize, type GpuMemory } from "./batch-size.js";
import { defaultParams } from "./schema.js";
import { builtInTemplate, type ParamTemplate } from "./templates.js";

const MIB = 1024 * 1024;
const det = builtInTemplate("TRAIN", "detection")!;
const cls = builtInTemplate("TRAIN", "classification")!;

/** A GPU with room for exactly `images` YOLOv3 images at 608×608 (plus `slack` MiB, less than an image). */
function yoloGpu(index: number, images: number, slack = 400): GpuMemory {
  const free = (1024 + 1555 + 943 * images + slack) * MIB;
  return { index, memoryTotalBytes: 24 * 1024 * MIB, memoryFreeBytes: free };
}

const yolo = (batch: number, extra: Record<string, unknown> = {}) => ({ ...defaultParams(det), batch_size: batch, ...extra });

describe("adjustBatchSize on one GPU", () => {
  it("keeps a batch that fits, never raising it", () => {
    const { params, note } = adjustBatchSize(det, yolo(2), [yoloGpu(0, 20)]);
    expect(params.batch_size).toBe(2);
    expect(note).toMatch(/^batch_size 2 fits: YOLOv3 at 608×608 needs about 943 MiB per image plus 1555 MiB .*PaddleX-derived.* GPU 0 .* holds 20 images$/);
  });
  it("lowers a batch to what little memory holds", () => {
    const { params, note } = adjustBatchSize(det, yolo(8), [yoloGpu(0, 3)]);
    expect(params.batch_size).toBe(3);
    expect(note).toMatch(/^batch_size 8 → 3 \(1 GPU × 3\)/);
  });
  it("goes no lower than 1, saying it may not fit", () => {
    const tiny = { index: 0, memoryTotalBytes: 4096 * MIB, memoryFreeBytes: 2000 * MIB };
    const { params, note } = adjustBatchSize(det, yolo(8), [tiny]);
    expect(params.batch_size).toBe(1);
    expect(note).toMatch(/^batch_size 8 → 1, and even that may not fit: .* holds 0 images$/);
  });
  it("scales the per-image memory by the pixels of image_shape", () => {
    // A quarter of the pixels: four times the images in the same room.
    expect(adjustBatchSize(det, yolo(64, { image_shape: [304, 304] }), [yoloGpu(0, 3, 0)]).params.batch_size).toBe(12);
  });
});

describe("adjustBatchSize on two GPUs", () => {
  it("multiplies what the GPU with the least room holds by the GPU count", () => {
    const { params, note } = adjustBatchSize(det, yolo(16), [yoloGpu(0, 20), yoloGpu(1, 2)]);
    expect(params.batch_size).toBe(4);
    expect(note).toMatch(/^batch_size 16 → 4 \(2 GPUs × 2\): .*GPU 1 \(.* GiB free, the least room of 2\) holds 2 images$/);
  });
  it("keeps a batch both hold", () => {
    expect(adjustBatchSize(det, yolo(16), [yoloGpu(0, 20), yoloGpu(1, 8)]).params.batch_size).toBe(16);
  });
  it("with little memory on both, one image per GPU, saying it may not fit", () => {
    const tiny = (index: number) => ({ index, memoryTotalBytes: 4096 * MIB, memoryFreeBytes: 1500 * MIB });
    const { params, note } = adjustBatchSize(det, yolo(8), [tiny(0), tiny(1)]);
    expect(params.batch_size).toBe(2);
    expect(note).toMatch(/may not fit/);
  });
  it("rounds a batch down to divide evenly over the GPUs (PaddleX refuses an uneven one)", () => {
    const { params, note } = adjustBatchSize(det, yolo(5), [yoloGpu(0, 20), yoloGpu(1, 20)]);
    expect(params.batch_size).toBe(4);
    expect(note).toMatch(/divides evenly over 2 GPUs/);
  });
});

describe("adjustBatchSize leaves the batch as given", () => {
  it("without GPUs, on CPUs, or without a model it knows", () => {
    expect(adjustBatchSize(det, yolo(8), [])).toEqual({ params: yolo(8), note: "batch_size left as given: no GPUs are given to size it by" });
    expect(adjustBatchSize(det, yolo(8, { use_gpu: false }), [yoloGpu(0, 1)]).params.batch_size).toBe(8);
    const evaluate = builtInTemplate("EVALUATE", "")!;
    expect(adjustBatchSize(evaluate, { ...defaultParams(evaluate), batch_size: 64 }, [yoloGpu(0, 1)])).toMatchObject({
      params: { batch_size: 64 },
      note: "batch_size left as given: the template names no model to estimate memory for",
    });
    const mine: ParamTemplate = { id: "mine", description: "", types: ["TRAIN"], schema: { type: "object", properties: {} } };
    expect(adjustBatchSize(mine, { model: "BERT", batch_size: 32 }, [yoloGpu(0, 1)]).note).toBe("batch_size left as given: no memory estimate for model BERT");
  });
  it("and never changes the params it is given", () => {
    const given = yolo(8);
    const before = structuredClone(given);
    const { params } = adjustBatchSize(det, given, [yoloGpu(0, 1)]);
    expect(params.batch_size).toBe(1);
    expect(given).toEqual(before);
  });
});

describe("adjustBatchSize's model families", () => {
  it("sizes a classifier by PaddleX's classifier figures, HRNet_W18 included", () => {
    // ResNet-like: 739 MiB fixed, 211 MiB per 224×224 image.
    const gpu = { index: 0, memoryTotalBytes: 0, memoryFreeBytes: (1024 + 739 + 211 * 5 + 100) * MIB };
    expect(adjustBatchSize(cls, { ...defaultParams(cls), model: "HRNet_W18", batch_size: 64 }, [gpu]).params.batch_size).toBe(5);
    // MobileNet: 513 fixed, 57 per image.
    const mobile = { index: 0, memoryTotalBytes: 0, memoryFreeBytes: (1024 + 513 + 57 * 7 + 10) * MIB };
    expect(adjustBatchSize(cls, { ...defaultParams(cls), batch_size: 64 }, [mobile]).params.batch_size).toBe(7);
  });
});
