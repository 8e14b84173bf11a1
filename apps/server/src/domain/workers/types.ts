// The records of workers: machines that run tasks, as they registered and
// last reported.
import type { WorkerRow } from "@modelreg/db";

export type { WorkerRow } from "@modelreg/db";

export interface GpuRecord {
  index: number;
  name: string;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  memoryFreeBytes: number;
  utilization: number;
}

/** What RegisterWorker sets. */
export interface WorkerFields {
  hostname: string;
  queues: string[];
  /** TaskType numbers; empty = every type. */
  types: number[];
  cpuCount: number;
  memoryBytes: number;
  gpus: GpuRecord[];
  labels: Record<string, string>;
  concurrency: number;
  agent: string;
}

/** A worker with its name, the tasks it holds and whether it is online. */
export interface WorkerView {
  row: WorkerRow;
  /** `workspaces/{w}/workers/{worker}` */
  name: string;
  runningTasks: string[];
  online: boolean;
}

export interface WorkerListOptions {
  pageSize: number;
  pageToken: string;
  onlineOnly: boolean;
}

export interface WorkerPage {
  workers: WorkerView[];
  nextPageToken: string;
}
