// Parameter templates: the JSON Schema of a task's params, with a default
// for every parameter. Built-in ones follow PaddleX's RESTful API (see
// train-templates.ts and other-templates.ts for the sources of each value);
// a workspace registers its own, checked by checkTemplateSchema.
import { OTHER_SCHEMAS } from "./other-templates.js";
import { TRAIN_SCHEMAS, withPruning } from "./train-templates.js";

/** The contract's TaskType names (without the TASK_TYPE_ prefix). */
export const TASK_TYPES = ["TRAIN", "EVALUATE", "PRUNE_ANALYSIS", "PRUNE_TRAIN", "PREDICT", "CONVERT"] as const;

export interface ParamTemplate {
  /** "classification", "detection", "segmentation" (built-in, for TRAIN and PRUNE_TRAIN), "default" (built-in per other type), or a workspace template's id. */
  id: string;
  description: string;
  /** Task types this template serves. */
  types: string[];
  /** JSON Schema (draft 2020-12) of the params object: type object, additionalProperties false, every property with a `default` (unless required) and a `description`. */
  schema: Record<string, unknown>;
}

/** The template a type gets when the request names none. */
const DEFAULT_ID: Record<string, string> = { TRAIN: "classification", PRUNE_TRAIN: "classification" };

const TRAIN_DESCRIPTIONS = {
  classification: "Image classification with a PaddleX classifier (MobileNetV2 by default).",
  detection: "Object detection with a PaddleX detector (YOLOv3 with DarkNet53 by default).",
  segmentation: "Semantic segmentation with a PaddleX segmenter (DeepLabv3p by default).",
} as const;

const OTHER_DESCRIPTIONS: Record<string, string> = {
  EVALUATE: "Evaluate a trained model on its evaluation set.",
  PRUNE_ANALYSIS: "Measure each layer's sensitivity to pruning, for a later PRUNE_TRAIN.",
  PREDICT: "Predict on images with a trained model.",
  CONVERT: "Convert a trained model to a deployable format, optionally quantized.",
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

function buildBuiltIns(): ParamTemplate[] {
  const out: ParamTemplate[] = [];
  for (const [id, schema] of Object.entries(TRAIN_SCHEMAS)) {
    const description = TRAIN_DESCRIPTIONS[id as keyof typeof TRAIN_SCHEMAS];
    out.push({ id, description, types: ["TRAIN"], schema });
    out.push({ id, description: `${description} Pruned by the sensitivities of a PRUNE_ANALYSIS task.`, types: ["PRUNE_TRAIN"], schema: withPruning(schema) });
  }
  for (const [type, schema] of Object.entries(OTHER_SCHEMAS)) out.push({ id: "default", description: OTHER_DESCRIPTIONS[type] ?? type, types: [type], schema });
  // Frozen: the schemas are shared by every request, and their defaults are handed out as copies only.
  return deepFreeze(structuredClone(out));
}

/**
 * Every built-in template. An id can serve more than one type (the TRAIN and
 * the PRUNE_TRAIN "classification" differ by the pruning parameters), so a
 * template is found by type and id together.
 */
export const BUILT_IN_TEMPLATES: readonly ParamTemplate[] = buildBuiltIns();

/** The built-in template for a type and template id ("" = the type's default: classification for TRAIN/PRUNE_TRAIN, "default" for the others), or undefined. */
export function builtInTemplate(type: string, id: string): ParamTemplate | undefined {
  const wanted = id === "" ? (DEFAULT_ID[type] ?? "default") : id;
  return BUILT_IN_TEMPLATES.find((t) => t.id === wanted && t.types.includes(type));
}
