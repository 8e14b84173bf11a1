// The rules of tasks, without a database: names, what a create must carry,
// the state machine, updates, and a worker's report.
import { TaskState, TaskType } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { violatedFields, violationsOf } from "../../testing/violations.js";
import type { FailedPreconditionError } from "../shared/errors.js";
import { checkReport, cutLine, MAX_LINE_BYTES } from "./report-rules.js";
import { checkCreate, checkDelete, checkUpdate, generatedTaskId, mayMove, parseCheckpointName, parseTaskName, requireState } from "./rules.js";
import type { TaskFields } from "./types.js";

const fields: TaskFields = {
  type: TaskType.TRAIN,
  description: "",
  labels: {},
  template: "",
  params: {},
  queue: "",
  requirements: { gpuCount: 0, gpuMemoryBytes: 0, cpuCount: 0, labels: {} },
  baseVersion: "",
  model: "",
  parentTask: "",
  dataVersion: "",
  algorithmCode: "",
  algorithmVersion: "",
  maxAttempts: 0,
  inputFiles: [],
};

describe("names", () => {
  it("parse tasks and checkpoints, and refuse the rest naming the form", () => {
    expect(parseTaskName("name", "workspaces/w/tasks/train-1")).toEqual({ workspace: "w", taskId: "train-1" });
    expect(parseCheckpointName("c", "workspaces/w/tasks/t/checkpoints/12")).toEqual({ workspace: "w", taskId: "t", epoch: 12 });
    for (const bad of ["", "workspaces/w/tasks/T", "workspaces/w/models/m", "workspaces/w/tasks/t/x"])
      expect(violationsOf(() => parseTaskName("name", bad))[0]?.description).toContain("workspaces/{workspace}/tasks/{task}");
    expect(violatedFields(() => parseCheckpointName("c", "workspaces/w/tasks/t/checkpoints/-1"))).toEqual(["c"]);
  });

  it("generate ids from the type", () => {
    expect(generatedTaskId(TaskType.PRUNE_TRAIN, "3f9a0c1e")).toBe("prune-train-3f9a0c1e");
  });
});

describe("a create", () => {
  it("needs a type, and names every bad field at once", () => {
    expect(checkCreate("workspaces/w", "", fields, "")).toEqual({ workspace: "w" });
    const bad = { ...fields, type: 0, queue: "Bad Queue", maxAttempts: 101, requirements: { ...fields.requirements, gpuCount: -1 } };
    expect(violatedFields(() => checkCreate("workspaces/w", "Bad_Id", bad, ""))).toEqual(["task_id", "task.type", "task.queue", "task.requirements.gpu_count", "task.max_attempts"]);
  });

  it("needs what each type works on", () => {
    expect(violatedFields(() => checkCreate("workspaces/w", "", { ...fields, type: TaskType.EVALUATE }, ""))).toEqual(["task.base_version"]);
    expect(violatedFields(() => checkCreate("workspaces/w", "", { ...fields, type: TaskType.PRUNE_TRAIN }, ""))).toEqual(["task.parent_task"]);
    const input = [{ path: "a.jpg", size: 1, sha256: "a".repeat(64), mediaType: "" }];
    expect(violatedFields(() => checkCreate("workspaces/w", "", { ...fields, inputFiles: input }, ""))).toEqual(["task.input_files"]);
  });
});

describe("states", () => {
  const all = [TaskState.PENDING, TaskState.QUEUED, TaskState.RUNNING, TaskState.SUCCEEDED, TaskState.FAILED, TaskState.STOPPING, TaskState.STOPPED, TaskState.CANCELLED];
  it("move only along the task's lifecycle", () => {
    const moves = all.flatMap((from) => all.filter((to) => mayMove(from, to)).map((to) => `${TaskState[from]}>${TaskState[to]}`));
    expect(moves.sort()).toEqual(
      [
        "PENDING>QUEUED",
        "PENDING>STOPPED",
        "PENDING>CANCELLED",
        "QUEUED>RUNNING",
        "QUEUED>STOPPED",
        "QUEUED>CANCELLED",
        "RUNNING>QUEUED",
        "RUNNING>SUCCEEDED",
        "RUNNING>FAILED",
        "RUNNING>STOPPING",
        "RUNNING>STOPPED",
        "RUNNING>CANCELLED",
        "FAILED>QUEUED",
        "FAILED>CANCELLED",
        "STOPPING>SUCCEEDED",
        "STOPPING>STOPPED",
        "STOPPING>CANCELLED",
        "STOPPED>QUEUED",
        "STOPPED>CANCELLED",
      ].sort(),
    );
  });

  it("refuse an action in the wrong state, saying which states allow it", () => {
    const e = (() => {
      try {
        requireState({ name: "workspaces/w/tasks/t", state: TaskState.RUNNING }, [TaskState.STOPPED, TaskState.FAILED], "resume");
      } catch (err) {
        return err as FailedPreconditionError;
      }
    })();
    expect(e?.reason).toBe("TASK_RUNNING");
    expect(e?.message).toBe("cannot resume workspaces/w/tasks/t: it is RUNNING; only a task that is STOPPED or FAILED can be");
    expect(() => checkDelete({ name: "t", state: TaskState.STOPPING })).toThrow(/cancel it/);
  });

  it("keep params fixed once the task has run", () => {
    const u = { etag: "", description: "", labels: {}, maxAttempts: 0, params: {} };
    expect([...checkUpdate(["params"], u, { name: "t", state: TaskState.QUEUED, attempt: 0 })]).toEqual(["params"]);
    expect(() => checkUpdate(["params"], u, { name: "t", state: TaskState.QUEUED, attempt: 1 })).toThrow(/has run already/);
  });
});

describe("a report", () => {
  const report = { progress: undefined, metrics: [], logs: [], firstLineNumber: 0 };
  it("is bounded, and names each bad point and line", () => {
    expect(violatedFields(() => checkReport({ ...report, logs: Array.from({ length: 1001 }, () => ({ text: "x", stream: "" })) }))).toEqual(["logs"]);
    const points = [{ name: "loss/train", step: 1, value: 0.5, epoch: 1 }, { name: "bad name", step: -1, value: Number.POSITIVE_INFINITY, epoch: 0 }];
    expect(violatedFields(() => checkReport({ ...report, metrics: points }))).toEqual(["metrics[1].name", "metrics[1].value", "metrics[1].step"]);
    expect(violatedFields(() => checkReport({ ...report, progress: { epoch: 1, totalEpochs: 2, step: 0, totalSteps: 0, fraction: 1.5, message: "", etaSeconds: 0 } }))).toEqual(["progress.fraction"]);
  });

  it("cuts a line over 16 KiB at a character boundary and marks it", () => {
    const line = cutLine("é".repeat(MAX_LINE_BYTES));
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(line.endsWith("…")).toBe(true);
    expect(line).not.toContain("\uFFFD");
  });
});
