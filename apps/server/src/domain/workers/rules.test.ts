// The rules of workers, without a database: names, registrations, GPUs.
import { describe, expect, it } from "vitest";
import { violatedFields } from "../../testing/violations.js";
import { checkRegister, freeMemoryDescending, parseWorkerName } from "./rules.js";
import type { WorkerFields } from "./types.js";

const fields: WorkerFields = { hostname: "gpu-1", queues: ["default"], types: [], cpuCount: 8, memoryBytes: 1, gpus: [], labels: {}, concurrency: 0, agent: "" };
const gpu = (free: number) => ({ index: 0, name: "A100", memoryTotalBytes: 40e9, memoryUsedBytes: 40e9 - free, memoryFreeBytes: free, utilization: 0.5 });

describe("workers", () => {
  it("are named workspaces/{w}/workers/{id}", () => {
    expect(parseWorkerName("worker", "workspaces/w/workers/gpu-1")).toEqual({ workspace: "w", workerId: "gpu-1" });
    expect(violatedFields(() => parseWorkerName("worker", "workspaces/w/workers/GPU"))).toEqual(["worker"]);
  });

  it("register with queues and sane resources, every bad field named", () => {
    expect(checkRegister("workspaces/w", "gpu-1", fields)).toEqual({ workspace: "w" });
    const bad = { ...fields, queues: [], types: [99], cpuCount: -1, concurrency: 300, gpus: [{ ...gpu(1), utilization: 2 }] };
    expect(violatedFields(() => checkRegister("workspaces/w", "", bad))).toEqual([
      "worker_id",
      "worker.queues",
      "worker.types",
      "worker.cpu_count",
      "worker.concurrency",
      "worker.gpus[0].utilization",
    ]);
  });

  it("offer their GPUs' free memory largest first", () => {
    expect(freeMemoryDescending([gpu(2), gpu(8), gpu(4)])).toEqual([8, 4, 2]);
  });
});
