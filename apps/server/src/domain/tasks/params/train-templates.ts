// The built-in TRAIN templates, after PaddleX's RESTful API (PaddleX v1.3.0):
// - the training schedule (batch size, epochs, learning rate and its decay,
//   warmup, save interval, lr_policy, optimizer) is the `Params` classes of
//   paddlex/restful/project/train/params.py: a short first run a user then tunes;
// - the model choice and everything that depends on the model (backbone,
//   image shape, pretrained weights, augmentation) is get_params() of
//   paddlex/restful/project/train/params_v2.py (what get_default_params answers);
// - the model and backbone lists are paddlex/cv/models/__init__.py and the
//   `backbones` lists of yolo_v3.py, ppyolo.py, faster_rcnn.py, mask_rcnn.py, deeplabv3p.py.
// PRUNE_TRAIN templates are these plus the pruning parameters.
import { bool, boolList, choice, imageShape, int, intList, num, numList, objectSchema, type Schema, text, when } from "./properties.js";

export const CLASSIFIERS = [
  "MobileNetV2", "MobileNetV1", "MobileNetV3_small", "MobileNetV3_large", "MobileNetV3_small_ssld", "MobileNetV3_large_ssld",
  "ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet50_vd", "ResNet101_vd", "ResNet50_vd_ssld", "ResNet101_vd_ssld",
  "DarkNet53", "Xception41", "Xception65", "DenseNet121", "DenseNet161", "DenseNet201", "ShuffleNetV2", "HRNet_W18", "AlexNet",
] as const;

export const DETECTORS = ["YOLOv3", "PPYOLO", "FasterRCNN", "MaskRCNN"] as const;
const YOLO_BACKBONES = ["DarkNet53", "ResNet34", "MobileNetV1", "MobileNetV3_large"];
const PPYOLO_BACKBONES = ["ResNet50_vd_ssld"];
const RCNN_BACKBONES = ["ResNet50", "ResNet18", "ResNet50_vd", "ResNet101", "ResNet101_vd", "HRNet_W18"];
const FASTER_RCNN_BACKBONES = [...RCNN_BACKBONES, "ResNet50_vd_ssld"];
const DETECTION_BACKBONES = [...new Set([...YOLO_BACKBONES, ...PPYOLO_BACKBONES, ...FASTER_RCNN_BACKBONES])];

export const SEGMENTERS = ["DeepLabv3p", "UNet", "HRNet_W18", "FastSCNN"] as const;
const DEEPLAB_BACKBONES = ["Xception65", "Xception41", "MobileNetV2_x0.25", "MobileNetV2_x0.5", "MobileNetV2_x1.0", "MobileNetV2_x1.5", "MobileNetV2_x2.0", "MobileNetV3_large_x1_0_ssld"];

const PROB = { min: 0, max: 1 };
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** The training schedule and devices (params.py `Params`, plus the device choice of get_default_params). */
function schedule(warmupSteps: number): Record<string, Schema> {
  return {
    batch_size: int("Images per training step, summed over every GPU used (PaddleX train_batch_size).", 2, { min: 1, max: 1024 }),
    num_epochs: int("Passes over the training set.", 4, { min: 1, max: 10000 }),
    learning_rate: num("Initial learning rate.", 0.000125, { above: 0, max: 10 }),
    lr_decay_epochs: intList("Epochs after which the learning rate is multiplied by lr_decay_gamma: strictly ascending, each below num_epochs.", [2, 3], { min: 1, max: 10000 }, { minItems: 1, maxItems: 16 }),
    lr_decay_gamma: num("Factor applied to the learning rate at each of lr_decay_epochs.", 0.1, { above: 0, max: 1 }),
    warmup_steps: int("Steps over which the learning rate rises from warmup_start_lr to learning_rate (0 = no warmup).", warmupSteps, { min: 0, max: 1_000_000 }),
    warmup_start_lr: num("Learning rate at the first warmup step.", 0, { min: 0, max: 10 }),
    save_interval_epochs: int("Save (and evaluate) a checkpoint every this many epochs.", 1, { min: 1, max: 10000 }),
    resume_checkpoint: text('A checkpoint to resume training from ("" = start from pretrain_weights).', ""),
    use_gpu: bool("Train on GPUs (false = CPU only).", true),
    cpu_num: int("CPU threads when use_gpu is false.", 1, { min: 1, max: 256 }),
    gpu_list: intList("Indexes of the GPUs to train on when use_gpu is true.", [0], { min: 0, max: 63 }, { minItems: 1, maxItems: 64, unique: true }),
  };
}

/** Normalization and the colour, flip augmentation every PaddleX trainer reads (params_v2 get_base_params). */
function transforms(mean: number[], std: number[], jitter: { on: boolean; range: number; saturationHue: boolean }): Record<string, Schema> {
  const colour = (name: string, on: boolean): Record<string, Schema> => ({
    [name]: bool(`Randomly change the ${name} of training images.`, on),
    [`${name}_range`]: num(`How far ${name} may change: a factor drawn from [1 - range, 1 + range].`, jitter.range, PROB),
    [`${name}_prob`]: num(`Probability of changing the ${name} of an image.`, 0.5, PROB),
  });
  return {
    image_mean: numList("Per-channel mean subtracted after scaling pixels to [0, 1] (RGB).", mean, PROB, { minItems: 3, maxItems: 3 }),
    image_std: numList("Per-channel standard deviation divided by after subtracting image_mean (RGB).", std, { above: 0, max: 1 }, { minItems: 3, maxItems: 3 }),
    horizontal_flip: bool("Randomly flip training images left to right.", true),
    horizontal_flip_prob: num("Probability of a horizontal flip.", 0.5, PROB),
    ...colour("brightness", jitter.on),
    ...colour("contrast", jitter.on),
    ...colour("saturation", jitter.saturationHue),
    hue: bool("Randomly shift the hue of training images.", jitter.saturationHue),
    hue_range: int("Largest hue shift, in degrees.", 18, { min: 0, max: 180 }),
    hue_prob: num("Probability of shifting the hue of an image.", 0.5, PROB),
  };
}

const classification = objectSchema({
  model: choice("PaddleX classifier to train.", "MobileNetV2", CLASSIFIERS),
  ...schedule(0),
  lr_policy: choice("How the learning rate changes: Piecewise (at lr_decay_epochs), Cosine or Linear (to 0 over num_epochs).", "Piecewise", ["Piecewise", "Cosine", "Linear"]),
  pretrain_weights: text('Initial weights: "IMAGENET", a path or URL of weights, or "" for none.', "IMAGENET"),
  image_shape: imageShape("Training image size [width, height] after cropping.", [224, 224]),
  ...transforms(IMAGENET_MEAN, IMAGENET_STD, { on: true, range: 0.9, saturationHue: false }),
  vertical_flip: bool("Randomly flip training images upside down.", true),
  vertical_flip_prob: num("Probability of a vertical flip.", 0.5, PROB),
  rotate: bool("Randomly rotate training images.", true),
  rotate_prob: num("Probability of rotating an image.", 0.5, PROB),
  rotate_range: int("Largest rotation, in degrees either way.", 30, { min: 0, max: 180 }),
});

/** Two-stage detectors: larger images, no colour jitter (params_v2 for FasterRCNN and MaskRCNN). */
function rcnn(backbones: string[]): Record<string, Schema> {
  return {
    backbone: choice("Backbone network of the model.", "ResNet50", backbones),
    image_shape: imageShape("Training image size [width, height]: the shorter side is resized to the smaller, the longer capped at the larger.", [800, 1333]),
    brightness: bool("Randomly change the brightness of training images.", false),
    contrast: bool("Randomly change the contrast of training images.", false),
    saturation: bool("Randomly change the saturation of training images.", false),
    hue: bool("Randomly shift the hue of training images.", false),
  };
}

const detection = objectSchema(
  {
    model: choice("PaddleX detector to train.", "YOLOv3", DETECTORS),
    backbone: choice("Backbone network of the model (which ones depend on model).", "DarkNet53", DETECTION_BACKBONES),
    ...schedule(10),
    pretrain_weights: text('Initial weights: "IMAGENET", "COCO", a path or URL of weights, or "" for none.', "IMAGENET"),
    image_shape: imageShape("Training image size [width, height].", [608, 608]),
    ...transforms(IMAGENET_MEAN, IMAGENET_STD, { on: true, range: 0.5, saturationHue: true }),
    with_fpn: bool("Use a feature pyramid network (FasterRCNN and MaskRCNN).", true),
    use_mixup: bool("Mix pairs of training images (YOLOv3 and PPYOLO).", true),
    mixup_alpha: num("Alpha of the Beta distribution mixup weights are drawn from.", 1.5, { above: 0, max: 100 }),
    mixup_beta: num("Beta of the Beta distribution mixup weights are drawn from.", 1.5, { above: 0, max: 100 }),
    expand_image: bool("Randomly place training images on a larger canvas (YOLOv3 and PPYOLO).", true),
    expand_prob: num("Probability of expanding an image.", 0.5, PROB),
    crop_image: bool("Randomly crop training images (YOLOv3 and PPYOLO).", true),
    random_shape: bool("Train on a randomly chosen size from random_shape_sizes at each step (YOLOv3 and PPYOLO).", true),
    random_shape_sizes: intList("Sizes random_shape chooses from, each a multiple of 32.", [320, 352, 384, 416, 448, 480, 512, 544, 576, 608], { min: 32, max: 8192, multipleOf: 32 }, { minItems: 1, maxItems: 32, unique: true }),
  },
  [
    when("model", ["YOLOv3"], { backbone: choice("Backbone network of YOLOv3.", "DarkNet53", YOLO_BACKBONES) }),
    when("model", ["PPYOLO"], { backbone: choice("Backbone network of PPYOLO.", "ResNet50_vd_ssld", PPYOLO_BACKBONES) }),
    when("model", ["FasterRCNN"], rcnn(FASTER_RCNN_BACKBONES)),
    when("model", ["MaskRCNN"], rcnn(RCNN_BACKBONES)),
  ],
);

const segmentation = objectSchema(
  {
    model: choice("PaddleX segmenter to train.", "DeepLabv3p", SEGMENTERS),
    backbone: choice("Backbone network (DeepLabv3p only; the other models have their own).", "Xception65", DEEPLAB_BACKBONES),
    ...schedule(0),
    lr_policy: choice("How the learning rate changes: Piecewise (at lr_decay_epochs), Polynomial or Cosine (over num_epochs).", "Piecewise", ["Piecewise", "Polynomial", "Cosine"]),
    optimizer: choice("Optimizer.", "Adam", ["Adam", "SGD"]),
    pretrain_weights: text('Initial weights: "IMAGENET", "COCO", "CITYSCAPES", a path or URL of weights, or "" for none.', "IMAGENET"),
    image_shape: imageShape("Training image size [width, height].", [512, 512]),
    ...transforms([0.5, 0.5, 0.5], [0.5, 0.5, 0.5], { on: false, range: 0.5, saturationHue: false }),
    loss_type: boolList("[use_dice_loss, use_bce_loss]: add Dice and binary cross-entropy losses (two-class datasets only).", [false, false], { minItems: 2, maxItems: 2 }),
    blur: bool("Randomly blur training images.", false),
    blur_prob: num("Probability of blurring an image.", 0.1, PROB),
    rotate: bool("Randomly rotate training images.", false),
    max_rotation: int("Largest rotation, in degrees either way.", 15, { min: 0, max: 180 }),
    scale_aspect: bool("Randomly crop with a changed aspect ratio.", false),
    min_ratio: num("Smallest side of the crop, as a fraction of the image's.", 0.5, { above: 0, max: 1 }),
    aspect_ratio: num("Largest change of the aspect ratio (0 keeps it).", 0.33, PROB),
    vertical_flip: bool("Randomly flip training images upside down.", false),
    vertical_flip_prob: num("Probability of a vertical flip.", 0.5, PROB),
  },
  [
    when("model", ["UNet"], { pretrain_weights: text("Initial weights of UNet.", "COCO") }),
    when("model", ["HRNet_W18", "FastSCNN"], { pretrain_weights: text("Initial weights of HRNet_W18 and FastSCNN.", "CITYSCAPES") }),
  ],
);

export const TRAIN_SCHEMAS = { classification, detection, segmentation } as const;

/** A TRAIN schema plus what pruning adds (PaddleX 2: model.prune(pruned_flops), sensitivities from analyze_sensitivity). */
export function withPruning(schema: Schema): Schema {
  const properties = schema.properties as Record<string, Schema>;
  return {
    ...schema,
    properties: {
      ...properties,
      sensitivities_path: text('Sensitivities file of a PRUNE_ANALYSIS task ("" = the one of the analysis this task follows).', ""),
      pruned_flops: num("Fraction of the model's FLOPs to remove, channels chosen by the sensitivities.", 0.2, { above: 0, below: 1 }),
    },
  };
}
