// PaddleX's batch size adjustment: before training, PaddleX's RESTful API
// sizes the batch to the free memory of the GPUs chosen
// (recommend_parameters in paddlex/restful/project/train/params.py and
// get_base_params in params_v2.py, v1.3.0):
//   batch = (free MiB of the fullest GPU − fixed MiB) // MiB per image × GPUs.
// The fixed and per-image figures below are PaddleX's, measured at each
// family's usual input size; here the per-image figure is scaled by the
// pixel count of the task's image_shape, a GiB is kept free on each GPU for
// whatever else runs there, and the batch is only ever lowered.
import { defaultParams } from "./schema.js";
import type { ParamTemplate } from "./templates.js";

export interface GpuMemory {
  index: number;
  memoryTotalBytes: number;
  memoryFreeBytes: number;
}

interface Family {
  name: string;
  /** Model names it covers, by prefix (as PaddleX matches them). */
  prefixes: string[];
  fixedMiB: number;
  perImageMiB: number;
  /** [width, height] the figures were measured at. */
  shape: [number, number];
}

const MIB = 1024 * 1024;
const HEADROOM_MIB = 1024;

const CLASSIFIERS: Family[] = [
  { name: "MobileNet", prefixes: ["MobileNet"], fixedMiB: 513, perImageMiB: 57, shape: [224, 224] },
  // PaddleX has no figure of its own for AlexNet and the HRNet classifier: they share the ResNet one.
  { name: "classifier", prefixes: ["DenseNet", "ResNet", "Xception", "DarkNet", "ShuffleNet", "AlexNet", "HRNet"], fixedMiB: 739, perImageMiB: 211, shape: [224, 224] },
];

const OTHERS: Family[] = [
  { name: "YOLOv3", prefixes: ["YOLOv3"], fixedMiB: 1555, perImageMiB: 943, shape: [608, 608] },
  { name: "PPYOLO", prefixes: ["PPYOLO"], fixedMiB: 1691, perImageMiB: 1025, shape: [608, 608] },
  { name: "FasterRCNN", prefixes: ["FasterRCNN"], fixedMiB: 1755, perImageMiB: 915, shape: [800, 1333] },
  { name: "MaskRCNN", prefixes: ["MaskRCNN"], fixedMiB: 2702, perImageMiB: 1188, shape: [800, 1333] },
  { name: "DeepLab", prefixes: ["DeepLab"], fixedMiB: 1469, perImageMiB: 1605, shape: [512, 512] },
  { name: "UNet", prefixes: ["UNet"], fixedMiB: 1275, perImageMiB: 1256, shape: [512, 512] },
  { name: "HRNet_W18", prefixes: ["HRNet_W18"], fixedMiB: 800, perImageMiB: 682, shape: [512, 512] },
  { name: "FastSCNN", prefixes: ["FastSCNN"], fixedMiB: 636, perImageMiB: 144, shape: [512, 512] },
];

/** The memory figures of a model; HRNet_W18 is a segmenter except in the classification template. */
function familyOf(model: string, templateId: string): Family | undefined {
  const families = templateId === "classification" ? CLASSIFIERS : [...OTHERS, ...CLASSIFIERS];
  return families.find((f) => f.prefixes.some((p) => model.startsWith(p)));
}

function isShape(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every((n) => Number.isFinite(n) && n > 0);
}

const gib = (bytes: number) => `${(bytes / 1024 / MIB).toFixed(1)} GiB`;

/**
 * PaddleX's batch size adjustment: given the GPUs a task will use, the largest batch size not above the params' own
 * batch_size that fits the free memory of each (and divides evenly over them); never below one image per GPU (the note
 * then says it may not fit). Returns the params (a copy) with batch_size changed, and a note why.
 */
export function adjustBatchSize(template: ParamTemplate, params: Record<string, unknown>, gpus: GpuMemory[]): { params: Record<string, unknown>; note: string } {
  const out = structuredClone(params);
  const requested = params.batch_size;
  const keep = (why: string) => ({ params: out, note: `batch_size left as given: ${why}` });
  if (!Number.isInteger(requested) || (requested as number) < 1) return keep("it is not a positive integer");
  const asked = requested as number;
  if (params.use_gpu === false) return keep("use_gpu is false, the task runs on CPUs");
  if (gpus.length === 0) return keep("no GPUs are given to size it by");
  const defaults = defaultParams(template);
  const model = typeof params.model === "string" ? params.model : defaults.model;
  const family = typeof model === "string" ? familyOf(model, template.id) : undefined;
  if (!family) return keep(typeof model === "string" ? `no memory estimate for model ${model}` : "the template names no model to estimate memory for");

  const shape = isShape(params.image_shape) ? params.image_shape : isShape(defaults.image_shape) ? defaults.image_shape : family.shape;
  const perImage = (family.perImageMiB * shape[0] * shape[1]) / (family.shape[0] * family.shape[1]);
  const fitOn = (g: GpuMemory) => Math.max(0, Math.floor((g.memoryFreeBytes / MIB - HEADROOM_MIB - family.fixedMiB) / perImage));
  const fullest = gpus.reduce((a, b) => (fitOn(b) < fitOn(a) ? b : a));
  const perGpu = fitOn(fullest);
  const n = gpus.length;
  const estimate =
    `${model} at ${shape[0]}×${shape[1]} needs about ${Math.ceil(perImage)} MiB per image plus ${family.fixedMiB} MiB for the model (PaddleX-derived estimates), ` +
    `and ${HEADROOM_MIB} MiB is kept free; GPU ${fullest.index} (${gib(fullest.memoryFreeBytes)} free, the least room of ${n}) holds ${perGpu} image${perGpu === 1 ? "" : "s"}`;

  // PaddleX splits a batch evenly over the GPUs and refuses one that does not divide.
  const divisible = asked >= n ? asked - (asked % n) : asked;
  const fits = Math.min(divisible, perGpu * n);
  if (fits >= 1 && fits === asked) {
    const uneven = asked % n === 0 ? "" : ` (but PaddleX refuses ${asked} image${asked === 1 ? "" : "s"} over ${n} GPUs: use fewer GPUs)`;
    return { params: out, note: `batch_size ${asked} fits${uneven}: ${estimate}` };
  }
  if (fits >= 1 && perGpu * n >= divisible)
    return { params: { ...out, batch_size: fits }, note: `batch_size ${asked} → ${fits}: it fits, but PaddleX needs a batch that divides evenly over ${n} GPUs; ${estimate}` };
  if (fits >= 1) return { params: { ...out, batch_size: fits }, note: `batch_size ${asked} → ${fits} (${n} GPU${n === 1 ? "" : "s"} × ${perGpu}): ${estimate}` };
  const least = Math.min(asked, n);
  return { params: { ...out, batch_size: least }, note: `batch_size ${asked} → ${least}, and even that may not fit: ${estimate}` };
}
