import { describe, expect, it } from "vitest";
import { checkpointEpochs, LOG_EVENT_LINES, mergeEvents, wholeThrough } from "./event-merge.js";
import type { EventRow, LogRow, MetricRow } from "./reads-sql.js";
import type { CheckpointView } from "./types.js";

const time = new Date("2026-01-01T00:00:00Z");
const state = (seq: number, s: number): EventRow => ({ taskId: "t", seq, kind: 1, payload: { state: s, previousState: s - 1, message: "m", attempt: 1, worker: "" }, time });
const log = (seq: number, text = `line ${seq}`): LogRow => ({ seq, attempt: 1, text, stream: "stdout", time });
const metric = (seq: number, name: string, step: number): MetricRow => ({ seq, name, step, value: step / 10, epoch: 0, time });
const shape = (events: ReturnType<typeof mergeEvents>) => events.map((e) => [e.seq, e.kind, e.kind === "logs" ? e.lines.length : e.kind === "metrics" ? e.points.length : 1]);

describe("merging a task's events", () => {
  it("orders the three sources by sequence number, one event per run of lines and per report of points", () => {
    const events = mergeEvents(
      { events: [state(1, 2), state(5, 3), state(9, 7)], logs: [log(2), log(3), log(4), log(7), log(8)], metrics: [metric(6, "acc", 1), metric(6, "loss", 1)] },
      9,
      new Map(),
    );
    expect(shape(events)).toEqual([
      [1, "state", 1],
      [4, "logs", 3],
      [5, "state", 1],
      [6, "metrics", 2],
      [8, "logs", 2],
      [9, "state", 1],
    ]);
    // A logs event's number is its last line's: resuming after it repeats none of them.
    expect(events[1]).toMatchObject({ kind: "logs", lines: [{ seq: 2 }, { seq: 3 }, { seq: 4 }] });
  });

  it("leaves out what lies beyond the read's whole part", () => {
    const events = mergeEvents({ events: [state(1, 2), state(6, 3)], logs: [log(2), log(3)], metrics: [metric(4, "loss", 1)] }, 3, new Map());
    expect(shape(events)).toEqual([
      [1, "state", 1],
      [3, "logs", 2],
    ]);
  });

  it("cuts a long run of lines into events of at most LOG_EVENT_LINES", () => {
    const logs = Array.from({ length: LOG_EVENT_LINES + 10 }, (_, i) => log(i + 1));
    expect(shape(mergeEvents({ events: [], logs, metrics: [] }, logs.length, new Map()))).toEqual([
      [LOG_EVENT_LINES, "logs", LOG_EVENT_LINES],
      [LOG_EVENT_LINES + 10, "logs", 10],
    ]);
  });

  it("shows a checkpoint event with its checkpoint, and none for a checkpoint gone since", () => {
    const cp = (seq: number, epoch: number): EventRow => ({ taskId: "t", seq, kind: 3, payload: { epoch }, time });
    const view = { name: "workspaces/w/tasks/t/checkpoints/1", files: [], row: { epoch: 1 } } as unknown as CheckpointView;
    const rows = { events: [cp(1, 1), cp(2, 2)], logs: [], metrics: [] };
    expect(checkpointEpochs(rows.events)).toEqual([1, 2]);
    expect(mergeEvents(rows, 2, new Map([[1, view]]))).toEqual([{ seq: 1, time, kind: "checkpoint", checkpoint: view }]);
  });

  it("knows how far a read of sources cut at a limit is whole", () => {
    expect(wholeThrough(50, [{ seqs: [1, 2], limit: 3 }, { seqs: [], limit: 3 }])).toBe(50);
    expect(wholeThrough(50, [{ seqs: [1, 2, 30], limit: 3 }, { seqs: [4, 5, 20], limit: 3 }])).toBe(20);
  });
});
