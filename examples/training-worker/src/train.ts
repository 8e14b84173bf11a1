// The task handler: trains logistic regression (logreg.ts) for a TRAIN task.
// Per epoch it reports loss and accuracy, logs a line and saves a
// checkpoint (weights.json + optimizer.json); it resumes from the
// checkpoint the claim names; on a stop it saves and returns; at the end it
// registers the last checkpoint as a version of the task's model.
//
// Params read (the built-in "classification" template has them all, with
// defaults): num_epochs, learning_rate, batch_size, lr_decay_epochs,
// lr_decay_gamma (the Piecewise policy; lr_policy is not read),
// save_interval_epochs. Any other param is ignored.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import type { TaskAbortError, TaskContext, TaskResult } from "@modelreg/sdk";
import { accuracy, DATA_SEED, initialState, learningRateAt, logLoss, makeDataset, MOMENTUM, type TrainState, trainEpoch } from "./logreg.js";

export interface TrainParams {
  numEpochs: number;
  learningRate: number;
  batchSize: number;
  decayEpochs: number[];
  gamma: number;
  saveInterval: number;
}

/** The params this handler reads, with the classification template's defaults for any a template lacks. */
export function trainParams(p: JsonObject): TrainParams {
  const num = (key: string, fallback: number) => (typeof p[key] === "number" ? p[key] : fallback);
  const list = p.lr_decay_epochs;
  return {
    numEpochs: num("num_epochs", 4),
    learningRate: num("learning_rate", 0.000125),
    batchSize: num("batch_size", 2),
    decayEpochs: Array.isArray(list) ? list.filter((e): e is number => typeof e === "number") : [2, 3],
    gamma: num("lr_decay_gamma", 0.1),
    saveInterval: num("save_interval_epochs", 1),
  };
}

/** Writes the state as a checkpoint directory: the weights, and the optimizer's state to go on with. */
async function writeCheckpoint(dir: string, state: TrainState, epoch: number, learningRate: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "weights.json"), `${JSON.stringify({ w: state.model.w, b: state.model.b, epoch }, null, 2)}\n`);
  const optimizer = { name: "sgd-momentum", momentum: MOMENTUM, learning_rate: learningRate, velocity: state.velocity };
  await writeFile(join(dir, "optimizer.json"), `${JSON.stringify(optimizer, null, 2)}\n`);
}

async function readCheckpoint(dir: string): Promise<TrainState> {
  const weights = JSON.parse(await readFile(join(dir, "weights.json"), "utf8")) as { w: number[]; b: number };
  const optimizer = JSON.parse(await readFile(join(dir, "optimizer.json"), "utf8")) as { velocity: { w: number[]; b: number } };
  return { model: { w: weights.w, b: weights.b }, velocity: optimizer.velocity };
}

export async function train(ctx: TaskContext): Promise<TaskResult> {
  const p = trainParams(ctx.params);
  const taskId = ctx.task.name.split("/").pop();
  const say = (line: string) => {
    ctx.log(line);
    console.log(`[${taskId}] ${line}`);
  };
  const data = makeDataset(DATA_SEED);
  const work = await mkdtemp(join(tmpdir(), `${taskId}-`));
  try {
    let state = initialState(data.train.x[0]!.length);
    let first = 0;
    if (ctx.resumeFrom) {
      await ctx.downloadResume(join(work, "resume"));
      state = await readCheckpoint(join(work, "resume"));
      first = ctx.resumeFrom.epoch + 1;
      say(`resuming from the checkpoint of epoch ${ctx.resumeFrom.epoch}`);
    }
    let metrics: Record<string, number> = {};
    for (let epoch = first; epoch < p.numEpochs; epoch++) {
      const learningRate = learningRateAt(epoch, { learningRate: p.learningRate, decayEpochs: p.decayEpochs, gamma: p.gamma });
      trainEpoch(state, data.train, { learningRate, batchSize: p.batchSize, epoch });
      metrics = { loss: logLoss(state.model, data.train), accuracy: accuracy(state.model, data.test) };
      ctx.metric("loss", metrics.loss!, epoch, epoch);
      ctx.metric("accuracy", metrics.accuracy!, epoch, epoch);
      ctx.progress({ epoch: epoch + 1, totalEpochs: p.numEpochs, fraction: (epoch + 1) / p.numEpochs, message: `epoch ${epoch}` });
      say(`epoch ${epoch}: loss ${metrics.loss!.toFixed(4)}, accuracy ${metrics.accuracy!.toFixed(3)}, learning rate ${learningRate}`);

      // A stop (or the worker shutting down) is answered at the end of an
      // epoch: it is saved, and the next attempt starts after it. Epochs
      // here take milliseconds; a long one would check ctx.signal per batch.
      const why = ctx.signal.aborted ? (ctx.signal.reason as TaskAbortError).kind : undefined;
      if (why === "cancel" || why === "lease-lost") return {};
      const last = epoch === p.numEpochs - 1;
      if (last || why !== undefined || (epoch + 1) % p.saveInterval === 0) {
        const dir = join(work, `epoch-${epoch}`);
        await writeCheckpoint(dir, state, epoch, learningRate);
        await ctx.saveCheckpoint(dir, epoch, metrics);
      }
      // The signal may have fired while the checkpoint was being saved.
      if (ctx.signal.aborted) {
        say(`stopped after epoch ${epoch}: ${(ctx.signal.reason as Error).message}`);
        return {};
      }
    }
    // The last epoch's checkpoint becomes a version of the task's model (its metrics are the checkpoint's).
    if (!ctx.task.model) {
      say("the task names no model: nothing registered");
      return { metrics };
    }
    const version = await ctx.registerVersion({
      epoch: p.numEpochs - 1,
      version: { description: `logistic regression, ${p.numEpochs} epochs`, algorithm: "logistic-regression" },
    });
    say(`registered ${version.name}`);
    return { metrics, result: { version: version.name, weights: { w: state.model.w, b: state.model.b } } };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
