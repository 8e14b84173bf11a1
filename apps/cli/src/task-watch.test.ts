import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { TaskEventSchema, TaskSchema, TaskState, TaskType } from "@modelreg/sdk";
import { expect, it } from "vitest";
import { progressText } from "./render-tasks.js";
import { applyItem, createWatchView, plainLines, progressBar, renderView } from "./task-watch.js";

const task = () =>
  create(TaskSchema, {
    name: "workspaces/w/tasks/train-1",
    type: TaskType.TRAIN,
    state: TaskState.RUNNING,
    attempt: 1,
    maxAttempts: 3,
    worker: "workspaces/w/workers/gpu-1",
    progress: { epoch: 3, totalEpochs: 10, message: "training" },
    metrics: { loss: 0.5 },
  });
const event = (seq: number, kind: MessageInitShape<typeof TaskEventSchema>["kind"]) => ({ case: "event", value: create(TaskEventSchema, { seq: BigInt(seq), kind }) }) as const;
const lines = (...seqs: number[]) => event(seqs.at(-1)!, { case: "logs", value: { lines: seqs.map((s) => ({ seq: BigInt(s), text: `line ${s}` })) } });

it("draws the state, a progress bar, the latest metrics, the last checkpoint and the log tail", () => {
  const view = createWatchView(2);
  applyItem(view, { case: "task", value: task() });
  applyItem(view, event(5, { case: "metrics", value: { points: [{ name: "loss", step: 4n, value: 0.31 }, { name: "accuracy", step: 4n, value: 0.9 }] } }));
  applyItem(view, event(6, { case: "progress", value: { epoch: 4, totalEpochs: 10, fraction: 0.4, message: "epoch 4" } }));
  applyItem(view, event(7, { case: "checkpoint", value: { epoch: 3, fileCount: 2, totalSizeBytes: 2048n } }));
  expect(applyItem(view, lines(8, 9, 10)).map((l) => l.text)).toEqual(["line 8", "line 9", "line 10"]);
  // Lines already shown (a tail read before the stream) are not shown twice.
  expect(applyItem(view, lines(9, 10, 11)).map((l) => l.text)).toEqual(["line 11"]);
  expect(renderView(view, 200)).toEqual([
    "task train-1  train  running  attempt 1/3  worker gpu-1",
    `[${"#".repeat(12)}${".".repeat(18)}]  40%  epoch 4/10: epoch 4`,
    "metrics: accuracy=0.9 loss=0.31",
    "checkpoint: epoch 3 (2 files, 2.0 KiB)",
    "--- log ---",
    "line 10",
    "line 11",
  ]);
  applyItem(view, event(12, { case: "stateChange", value: { state: TaskState.FAILED, previousState: TaskState.RUNNING, message: "out of memory", attempt: 1 } }));
  expect(renderView(view, 200)).toContain("error: out of memory");
  // Every line fits the terminal: a wrapped line would break the redraw.
  expect(renderView(view, 20).every((l) => [...l].length <= 20)).toBe(true);
});

it("falls back to epochs for the bar, and shows none before any progress", () => {
  expect(progressBar(undefined, 10)).toBe("[..........]    -");
  expect(progressBar(1, 10)).toBe("[##########] 100%");
  const view = createWatchView(0);
  applyItem(view, { case: "task", value: task() });
  expect(renderView(view, 200)[1]).toBe(`[${"#".repeat(9)}${".".repeat(21)}]  30%  epoch 3/10: training`);
  expect(progressText(undefined)).toBe("-");
});

it("prints one plain line per change when there is no terminal", () => {
  expect(plainLines({ case: "task", value: task() })).toEqual(["task train-1  train  running  attempt 1/3  worker gpu-1  epoch 3/10: training"]);
  expect(plainLines(event(2, { case: "stateChange", value: { state: TaskState.SUCCEEDED, previousState: TaskState.RUNNING } }))).toEqual(["state: running -> succeeded"]);
  expect(plainLines(event(3, { case: "metrics", value: { points: [{ name: "loss", step: 1n, value: 0.5 }, { name: "loss", step: 2n, value: 0.4 }, { name: "acc", step: 2n, value: 0.8 }] } }))).toEqual([
    "metrics: step 1: loss=0.5",
    "metrics: step 2: loss=0.4 acc=0.8",
  ]);
  expect(plainLines(lines(4, 5))).toEqual(["log: line 4", "log: line 5"]);
});
