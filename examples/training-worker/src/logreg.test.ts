import { expect, it } from "vitest";
import { accuracy, initialState, learningRateAt, logLoss, makeDataset, type TrainState, trainEpoch } from "./logreg.js";

const schedule = { learningRate: 0.05, decayEpochs: [4, 5], gamma: 0.1 };

function run(state: TrainState, from: number, to: number, data = makeDataset().train): number[] {
  const losses: number[] = [];
  for (let epoch = from; epoch < to; epoch++) {
    trainEpoch(state, data, { learningRate: learningRateAt(epoch, schedule), batchSize: 32, epoch });
    losses.push(logLoss(state.model, data));
  }
  return losses;
}

it("learns the generated data: the loss falls every epoch and held-out accuracy is well above chance", () => {
  const { train, test } = makeDataset();
  const state = initialState(2);
  const before = logLoss(state.model, train);
  const losses = run(state, 0, 6, train);
  expect(losses[0]).toBeLessThan(before);
  for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]!);
  expect(accuracy(state.model, test)).toBeGreaterThan(0.85);
});

it("ends a run resumed from a checkpoint (weights and velocity through JSON) with the weights of one that never stopped", () => {
  const whole = initialState(2);
  run(whole, 0, 6);
  const first = initialState(2);
  run(first, 0, 3);
  const restored = JSON.parse(JSON.stringify(first)) as TrainState;
  run(restored, 3, 6);
  expect(restored).toEqual(whole);
});

it("decays the learning rate at each of lr_decay_epochs", () => {
  expect([0, 3, 4, 5, 9].map((e) => learningRateAt(e, { learningRate: 1, decayEpochs: [4, 5], gamma: 0.5 }))).toEqual([1, 1, 0.5, 0.25, 0.25]);
});
