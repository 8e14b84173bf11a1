// Workers between the domain and proto: a registration's fields, GPUs as a
// worker reports them, and the Worker message.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type GpuInfo, GpuInfoSchema, type Worker as WorkerMsg, WorkerSchema } from "@modelreg/proto";
import type { GpuRecord, WorkerFields, WorkerView } from "../domain/workers/index.js";

export function gpusOf(gpus: GpuInfo[]): GpuRecord[] {
  return gpus.map((g) => ({
    index: g.index,
    name: g.name,
    memoryTotalBytes: Number(g.memoryTotalBytes),
    memoryUsedBytes: Number(g.memoryUsedBytes),
    memoryFreeBytes: Number(g.memoryFreeBytes),
    utilization: g.utilization,
  }));
}

export function workerFieldsOf(w: WorkerMsg | undefined): WorkerFields {
  return {
    hostname: w?.hostname ?? "",
    queues: w?.queues ?? [],
    types: w?.types ?? [],
    cpuCount: w?.cpuCount ?? 0,
    memoryBytes: Number(w?.memoryBytes ?? 0n),
    gpus: gpusOf(w?.gpus ?? []),
    labels: w?.labels ?? {},
    concurrency: w?.concurrency ?? 0,
    agent: w?.agent ?? "",
  };
}

export function workerToProto(v: WorkerView): WorkerMsg {
  const r = v.row;
  const gpus = r.gpus as unknown as GpuRecord[];
  return create(WorkerSchema, {
    name: v.name,
    workerId: r.workerId,
    hostname: r.hostname,
    queues: r.queues,
    types: r.types,
    cpuCount: r.cpuCount,
    memoryBytes: BigInt(r.memoryBytes),
    gpus: gpus.map((g) =>
      create(GpuInfoSchema, {
        index: g.index,
        name: g.name,
        memoryTotalBytes: BigInt(g.memoryTotalBytes),
        memoryUsedBytes: BigInt(g.memoryUsedBytes),
        memoryFreeBytes: BigInt(g.memoryFreeBytes),
        utilization: g.utilization,
      }),
    ),
    labels: r.labels,
    concurrency: r.concurrency,
    agent: r.agent,
    runningTasks: v.runningTasks,
    lastSeenTime: timestampFromDate(r.lastSeenTime),
    createTime: timestampFromDate(r.createTime),
    online: v.online,
  });
}
