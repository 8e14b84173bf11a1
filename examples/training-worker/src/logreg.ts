// Logistic regression trained by mini-batch gradient descent with momentum,
// on a generated data set: the whole "model" of the example, with no
// dependencies. Everything is seeded: the data from DATA_SEED, each epoch's
// shuffle from the seed and the epoch number, so an epoch run again after a
// resume sees the same batches in the same order, and a run that was
// stopped and resumed from a checkpoint ends with the weights of one that
// never stopped.

export const DATA_SEED = 20_260_101;
/** Samples generated; the last fifth is held out to measure accuracy. */
export const SAMPLES = 2_000;
/** The rule the data is drawn from (plus noise): what the model should find. */
const TEACHER = { w: [1.5, -2.0], b: 0.25, noise: 0.5 };
export const MOMENTUM = 0.9;

export interface Dataset {
  x: number[][];
  y: number[];
}

export interface Model {
  w: number[];
  b: number;
}

/** The model and the optimizer's state (the momentum's velocity): what a checkpoint holds. */
export interface TrainState {
  model: Model;
  velocity: Model;
}

/** mulberry32: a small, fast, seeded generator of uniform numbers in [0, 1). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A standard normal number (Box-Muller). */
function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** Points around a line, labelled by the side they fall on (with some noise, so not perfectly separable). */
export function makeDataset(seed = DATA_SEED, samples = SAMPLES): { train: Dataset; test: Dataset } {
  const next = random(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < samples; i++) {
    const point = TEACHER.w.map(() => gaussian(next));
    const margin = dot(TEACHER.w, point) + TEACHER.b + TEACHER.noise * gaussian(next);
    x.push(point);
    y.push(margin > 0 ? 1 : 0);
  }
  const cut = Math.floor(samples * 0.8);
  return { train: { x: x.slice(0, cut), y: y.slice(0, cut) }, test: { x: x.slice(cut), y: y.slice(cut) } };
}

const dot = (a: number[], b: number[]) => a.reduce((sum, ai, i) => sum + ai * b[i]!, 0);

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function initialState(features: number): TrainState {
  return { model: { w: new Array<number>(features).fill(0), b: 0 }, velocity: { w: new Array<number>(features).fill(0), b: 0 } };
}

/** One pass over `data` in batches of `batchSize`, shuffled by the seed and the epoch; changes `state`. */
export function trainEpoch(state: TrainState, data: Dataset, o: { learningRate: number; batchSize: number; epoch: number; seed?: number }): void {
  const order = data.x.map((_, i) => i);
  const next = random(((o.seed ?? DATA_SEED) ^ Math.imul(o.epoch + 1, 0x9e3779b1)) >>> 0);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const { model, velocity } = state;
  for (let start = 0; start < order.length; start += o.batchSize) {
    const batch = order.slice(start, start + o.batchSize);
    const gw = new Array<number>(model.w.length).fill(0);
    let gb = 0;
    for (const i of batch) {
      const xi = data.x[i]!;
      const error = sigmoid(dot(model.w, xi) + model.b) - data.y[i]!;
      for (let k = 0; k < gw.length; k++) gw[k] = gw[k]! + (error * xi[k]!) / batch.length;
      gb += error / batch.length;
    }
    for (let k = 0; k < gw.length; k++) {
      velocity.w[k] = MOMENTUM * velocity.w[k]! + gw[k]!;
      model.w[k] = model.w[k]! - o.learningRate * velocity.w[k]!;
    }
    velocity.b = MOMENTUM * velocity.b + gb;
    model.b -= o.learningRate * velocity.b;
  }
}

/** Mean cross-entropy (log loss) of the model on `data`. */
export function logLoss(model: Model, data: Dataset): number {
  let sum = 0;
  data.x.forEach((xi, i) => {
    const z = dot(model.w, xi) + model.b;
    // softplus(z) - y*z: the cross-entropy without taking the log of 0.
    sum += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - data.y[i]! * z;
  });
  return sum / data.x.length;
}

/** Share of `data` the model labels right. */
export function accuracy(model: Model, data: Dataset): number {
  const right = data.x.filter((xi, i) => (dot(model.w, xi) + model.b > 0 ? 1 : 0) === data.y[i]).length;
  return right / data.x.length;
}

/** The learning rate of `epoch` (PaddleX's Piecewise policy): multiplied by `gamma` at each of `decayEpochs` reached. */
export function learningRateAt(epoch: number, o: { learningRate: number; decayEpochs: number[]; gamma: number }): number {
  return o.learningRate * o.gamma ** o.decayEpochs.filter((e) => epoch >= e).length;
}
