// The "default" templates of the task types other than training. Defaults
// from PaddleX: evaluate_model and predict_test_pics of
// paddlex/restful/project/task.py and operate.py (v1.3.0: topk 5,
// score_thresh 0.3 to evaluate and 0.5 to predict, overlap_thresh 0.5),
// analyze_sensitivity and prune of paddlex/cv/models/base.py (v2.0.0:
// batch_size 8, criterion l1_norm), the sensitivity ratios of
// paddlex/cv/models/slim/prune.py (v1.3.0: 0.1 to 0.9), and the export
// commands (inference model, Paddle Lite for arm, post-training quantization).
import { bool, choice, choiceList, int, intList, num, numList, objectSchema, type Schema } from "./properties.js";

const PROB = { min: 0, max: 1 };

export const EVALUATE_METRICS = ["accuracy", "topk_accuracy", "precision_recall", "confusion_matrix", "map", "miou", "category_iou", "kappa"] as const;

const evaluate = objectSchema({
  batch_size: int("Images per evaluation step.", 1, { min: 1, max: 1024 }),
  metrics: choiceList(
    "Metrics to compute; each applies to the kinds of model it is defined for (accuracy, topk_accuracy: classification; map: detection; miou, category_iou, kappa: segmentation).",
    ["accuracy", "confusion_matrix"],
    EVALUATE_METRICS,
    { minItems: 1, maxItems: EVALUATE_METRICS.length, unique: true },
  ),
  topk: int("k of the top-k accuracy (classification).", 5, { min: 1, max: 1000 }),
  score_threshold: num("Detections scoring below this are dropped (detection).", 0.3, PROB),
  overlap_thresh: num("IoU at which a detection matches a ground-truth box (detection).", 0.5, { above: 0, max: 1 }),
});

const pruneAnalysis = objectSchema({
  batch_size: int("Images per evaluation step while measuring sensitivities.", 8, { min: 1, max: 1024 }),
  criterion: choice("How filters are ranked for pruning: l1_norm or fpgm (geometric median).", "l1_norm", ["l1_norm", "fpgm"]),
  ratios: numList("Pruning ratios at which each layer's sensitivity is measured.", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], { above: 0, below: 1 }, { minItems: 1, maxItems: 32, unique: true }),
});

const predict = objectSchema({
  batch_size: int("Images per prediction step.", 1, { min: 1, max: 1024 }),
  score_threshold: num("Detections scoring below this are dropped (detection).", 0.5, PROB),
  topk: int("Classes returned per image, best first (classification).", 1, { min: 1, max: 1000 }),
});

const convert = objectSchema({
  format: choice("What to produce: a Paddle inference model, or a Paddle Lite model for devices.", "inference", ["inference", "lite"]),
  lite_target: choice("The device a lite model runs on (format lite).", "arm", ["arm", "opencl", "x86"]),
  quantize: bool("Quantize the weights after training (post-training quantization).", false),
  quant_type: choice("Precision of quantized weights (quantize true).", "int8", ["int8", "fp16"]),
  image_shape: intList("Fix the input size to [width, height]; [] keeps it dynamic.", [], { min: 32, max: 8192 }, { minItems: 0, maxItems: 2 }),
  batch_size: int("Batch size the converted model is fixed to (quantization calibrates with it).", 1, { min: 1, max: 1024 }),
});

export const OTHER_SCHEMAS: Record<string, Schema> = { EVALUATE: evaluate, PRUNE_ANALYSIS: pruneAnalysis, PREDICT: predict, CONVERT: convert };
