// A task's result as a version: a committed checkpoint's files (or a
// finished task's outputs, or files the worker names) become a new version
// of a model, READY at once, nothing uploaded again, its lineage naming the
// task with its algorithm and data version. From TaskService (by the task's
// name) or from the worker holding the lease (TaskWorkerService).
import type { Database } from "@modelreg/db";
import { TaskState } from "@modelreg/proto";
import type { FileSpec, TaskContent } from "../files/index.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { parseModelName } from "../shared/resource-names.js";
import type { Scope } from "../shared/scope.js";
import { createVersionWithFiles, type Lineage, type Version, type VersionFields } from "../versions/index.js";
import { committedCheckpoint } from "./checkpoints.js";
import { latestCommittedEpoch, lockByLease } from "./lease.js";
import { parseCheckpointName, parseTaskName, taskResourceName } from "./rules.js";
import * as q from "./sql.js";
import type { TaskRow } from "./types.js";

/** Which files: a checkpoint by name or epoch, files named outright, or (none of them) the task's outputs, else its latest committed checkpoint. */
export type OutputSource = { checkpoint: string } | { epoch: number } | { files: FileSpec[] } | { latest: true };

export interface RegisterInput {
  source: OutputSource;
  model: string;
  versionId: string;
  fields: VersionFields;
  lineage: Lineage;
  requestId: string;
}

/** By the task's name (TaskService.RegisterTaskOutput). */
export async function registerTaskOutput(db: Database, content: TaskContent, scope: Scope, name: string, r: RegisterInput): Promise<Version> {
  const task = await q.selectByName(db, scope, parseTaskName("name", name));
  if (!task) throw new NotFoundError("task", name);
  return register(db, content, scope, task, r);
}

/** By the lease (TaskWorkerService.RegisterVersion). */
export async function registerLeasedOutput(db: Database, content: TaskContent, leaseMs: number, scope: Scope, leaseToken: string, r: RegisterInput): Promise<Version> {
  const task = await db.transaction((tx) => lockByLease(tx, scope, leaseToken, leaseMs));
  return register(db, content, scope, task, r);
}

async function register(db: Database, content: TaskContent, scope: Scope, task: TaskRow, r: RegisterInput): Promise<Version> {
  const name = taskResourceName(task.workspace, task.taskId);
  const model = r.model || task.model;
  if (model === "") throw InvalidArgumentError.field("model", `is required: ${name} names no model its outputs go to`);
  if (parseModelName("model", model).workspace !== task.workspace) throw InvalidArgumentError.field("model", `must be a model of workspaces/${task.workspace}, the task's workspace`);
  const { files, metrics } = await sourceFiles(db, content, task, name, r.source);
  const lineage: Lineage = {
    ...r.lineage,
    sourceTask: name,
    dataVersion: r.lineage.dataVersion || task.dataVersion,
    trainingAlgorithmCode: r.lineage.trainingAlgorithmCode || task.algorithmCode,
    trainingAlgorithmVersion: r.lineage.trainingAlgorithmVersion || task.algorithmVersion,
  };
  const given = r.fields.metadata.metrics;
  const fields: VersionFields = { ...r.fields, metadata: { ...r.fields.metadata, metrics: Object.keys(given).length > 0 ? given : metrics } };
  return createVersionWithFiles(db, scope, {
    parent: model,
    versionId: r.versionId,
    fields,
    lineage,
    requestId: r.requestId,
    fill: (tx, version) => content.fillVersion(tx, version, files),
  });
}

async function sourceFiles(db: Database, content: TaskContent, task: TaskRow, name: string, source: OutputSource): Promise<{ files: FileSpec[]; metrics: Record<string, number> }> {
  if ("files" in source) {
    if (source.files.length === 0) throw InvalidArgumentError.field("files", "is required: the version's files, or an epoch whose checkpoint to register");
    return { files: await content.check(source.files, "files"), metrics: task.metrics };
  }
  let epoch: number | null;
  if ("checkpoint" in source) {
    const c = parseCheckpointName("checkpoint", source.checkpoint);
    if (c.workspace !== task.workspace || c.taskId !== task.taskId) throw InvalidArgumentError.field("checkpoint", `must be a checkpoint of ${name}`);
    epoch = c.epoch;
  } else if ("epoch" in source) epoch = source.epoch;
  else {
    const { outputs } = await q.selectFiles(db, task.id);
    if (task.state === TaskState.SUCCEEDED && outputs.length > 0) return { files: outputs, metrics: task.metrics };
    epoch = await latestCommittedEpoch(db, task.id);
    if (epoch === null) throw new FailedPreconditionError("NO_OUTPUT", `${name} has no output files and no committed checkpoint to register`, { resource: name });
  }
  const checkpoint = await committedCheckpoint(db, task, epoch);
  if (!checkpoint)
    throw new FailedPreconditionError("NO_CHECKPOINT", `${name} has no committed checkpoint at epoch ${epoch}`, { resource: name, epoch: String(epoch) });
  return { files: checkpoint.files, metrics: Object.keys(checkpoint.row.metrics).length > 0 ? checkpoint.row.metrics : task.metrics };
}
