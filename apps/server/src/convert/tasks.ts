// Tasks' domain records <-> proto messages: the task, its progress,
// requirements, events, log lines, metric points and checkpoints, and
// params templates. Params, results and template schemas are JSON objects
// in the database and google.protobuf.Struct on the wire (JsonObject in
// protobuf-es), so they pass through unchanged.
import { create, type JsonObject } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Checkpoint as CheckpointMsg,
  CheckpointSchema,
  type LogLine as LogLineMsg,
  LogLineSchema,
  type MetricPoint as MetricPointMsg,
  MetricPointSchema,
  type ParamTemplate as ParamTemplateMsg,
  ParamTemplateSchema,
  type Task as TaskMsg,
  type TaskEvent as TaskEventMsg,
  TaskEventSchema,
  type TaskProgress as TaskProgressMsg,
  TaskProgressSchema,
  TaskSchema,
} from "@modelreg/proto";
import { fileSpecOf, fileToProto } from "./files.js";
import { etagOf } from "../domain/shared/etag.js";
import type {
  CheckpointView,
  LogLineRecord,
  MetricPointRecord,
  NewTemplate,
  ProgressRecord,
  TaskEventRecord,
  TaskFields,
  TaskUpdate,
  TaskView,
  TemplateView,
} from "../domain/tasks/index.js";

const ts = (d: Date | null | undefined): Timestamp | undefined => (d ? timestampFromDate(d) : undefined);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

export function progressToProto(p: Partial<ProgressRecord> | Record<string, unknown>): TaskProgressMsg {
  const reportTime = typeof p.reportTime === "string" ? new Date(p.reportTime) : undefined;
  return create(TaskProgressSchema, {
    epoch: num(p.epoch),
    totalEpochs: num(p.totalEpochs),
    step: BigInt(Math.trunc(num(p.step))),
    totalSteps: BigInt(Math.trunc(num(p.totalSteps))),
    fraction: num(p.fraction),
    message: typeof p.message === "string" ? p.message : "",
    etaSeconds: BigInt(Math.trunc(num(p.etaSeconds))),
    reportTime: reportTime && !Number.isNaN(reportTime.getTime()) ? timestampFromDate(reportTime) : undefined,
  });
}

/** A worker's progress as the domain records it (its report time is the server's). */
export function progressOf(p: TaskProgressMsg): ProgressRecord {
  return {
    epoch: p.epoch,
    totalEpochs: p.totalEpochs,
    step: Number(p.step),
    totalSteps: Number(p.totalSteps),
    fraction: p.fraction,
    message: p.message,
    etaSeconds: Number(p.etaSeconds),
  };
}

export function taskToProto(t: TaskView): TaskMsg {
  const r = t.row;
  return create(TaskSchema, {
    name: t.name,
    uid: r.id,
    type: r.type,
    description: r.description,
    labels: r.labels,
    template: r.template,
    params: r.params as JsonObject,
    queue: r.queue,
    requirements: { gpuCount: r.reqGpuCount, gpuMemoryBytes: BigInt(r.reqGpuMemory), cpuCount: r.reqCpuCount, labels: r.reqLabels },
    baseVersion: r.baseVersion,
    model: r.model,
    parentTask: r.parentTask,
    dataVersion: r.dataVersion,
    algorithmCode: r.algorithmCode,
    algorithmVersion: r.algorithmVersion,
    state: r.state,
    // No report yet: no progress.
    progress: Object.keys(r.progress).length > 0 ? progressToProto(r.progress) : undefined,
    attempt: r.attempt,
    maxAttempts: r.maxAttempts,
    worker: r.worker,
    leaseExpireTime: ts(r.leaseUntil),
    errorMessage: r.errorMessage,
    result: Object.keys(r.result).length > 0 ? (r.result as JsonObject) : undefined,
    metrics: r.metrics,
    inputFiles: t.inputFiles.map((f) => fileToProto(f)),
    outputFiles: t.outputFiles.map((f) => fileToProto(f)),
    outputVersions: t.outputVersions,
    resumeCheckpoint: t.resumeCheckpoint,
    lastSeq: BigInt(r.lastSeq),
    etag: etagOf(r.id, r.revision),
    createTime: timestampFromDate(r.createTime),
    updateTime: timestampFromDate(r.updateTime),
    startTime: ts(r.startTime),
    endTime: ts(r.endTime),
    creator: r.creator,
  });
}

export function checkpointToProto(c: CheckpointView): CheckpointMsg {
  const r = c.row;
  return create(CheckpointSchema, {
    name: c.name,
    epoch: r.epoch,
    state: r.state,
    files: c.files.map((f) => fileToProto(f)),
    metrics: r.metrics,
    attempt: r.attempt,
    fileCount: r.fileCount,
    totalSizeBytes: BigInt(r.totalSize),
    createTime: timestampFromDate(r.createTime),
    commitTime: ts(r.commitTime),
  });
}

export function logLineToProto(l: LogLineRecord): LogLineMsg {
  return create(LogLineSchema, { seq: BigInt(l.seq), text: l.text, time: timestampFromDate(l.time), stream: l.stream, attempt: l.attempt });
}

export function metricPointToProto(p: MetricPointRecord): MetricPointMsg {
  return create(MetricPointSchema, { name: p.name, step: BigInt(p.step), value: p.value, time: timestampFromDate(p.time), epoch: p.epoch });
}

export function taskEventToProto(e: TaskEventRecord): TaskEventMsg {
  const base = { seq: BigInt(e.seq), time: timestampFromDate(e.time) };
  switch (e.kind) {
    case "state":
      return create(TaskEventSchema, { ...base, kind: { case: "stateChange", value: { ...e.change } } });
    case "progress":
      return create(TaskEventSchema, { ...base, kind: { case: "progress", value: progressToProto(e.progress) } });
    case "metrics":
      return create(TaskEventSchema, { ...base, kind: { case: "metrics", value: { points: e.points.map(metricPointToProto) } } });
    case "logs":
      return create(TaskEventSchema, { ...base, kind: { case: "logs", value: { lines: e.lines.map(logLineToProto) } } });
    case "checkpoint":
      return create(TaskEventSchema, { ...base, kind: { case: "checkpoint", value: checkpointToProto(e.checkpoint) } });
  }
}

export function templateToProto(t: TemplateView): ParamTemplateMsg {
  return create(ParamTemplateSchema, {
    name: t.name,
    templateId: t.template.id,
    description: t.template.description,
    types: t.types,
    schema: t.template.schema as JsonObject,
    builtIn: t.builtIn,
    createTime: ts(t.createTime),
  });
}

/** The settable fields of a template (absent message = all empty). */
export function newTemplateOf(t: ParamTemplateMsg | undefined): NewTemplate {
  return { templateId: t?.templateId ?? "", description: t?.description ?? "", types: [...(t?.types ?? [])], schema: t?.schema };
}

/** The fields CreateTask sets (absent message = all defaults; output-only fields ignored). */
export function taskFieldsOf(t: TaskMsg | undefined): TaskFields {
  const q = t?.requirements;
  return {
    type: t?.type ?? 0,
    description: t?.description ?? "",
    labels: { ...(t?.labels ?? {}) },
    template: t?.template ?? "",
    params: { ...(t?.params ?? {}) },
    queue: t?.queue ?? "",
    requirements: { gpuCount: q?.gpuCount ?? 0, gpuMemoryBytes: Number(q?.gpuMemoryBytes ?? 0n), cpuCount: q?.cpuCount ?? 0, labels: { ...(q?.labels ?? {}) } },
    baseVersion: t?.baseVersion ?? "",
    model: t?.model ?? "",
    parentTask: t?.parentTask ?? "",
    dataVersion: t?.dataVersion ?? "",
    algorithmCode: t?.algorithmCode ?? "",
    algorithmVersion: t?.algorithmVersion ?? "",
    maxAttempts: t?.maxAttempts ?? 0,
    inputFiles: (t?.inputFiles ?? []).map(fileSpecOf),
  };
}

/** The fields UpdateTask may change, with the etag it names. */
export function taskUpdateOf(t: TaskMsg | undefined): TaskUpdate {
  return { etag: t?.etag ?? "", description: t?.description ?? "", labels: { ...(t?.labels ?? {}) }, maxAttempts: t?.maxAttempts ?? 0, params: { ...(t?.params ?? {}) } };
}
