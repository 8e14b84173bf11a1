// The TaskContext a handler is handed: the claim's task, params and files,
// the reporter's log/metric/progress, and the attempt's file work
// (checkpoints, downloads, versions, outputs) through the SDK's transfer
// code. Checkpoints and versions run on the lease signal, not the
// handler's: a handler that saves after a stop request must succeed.
import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import type { Checkpoint, Version, VersionFile } from "@modelreg/proto";
import { modelName } from "../names.js";
import type { DownloadedFile } from "../transfers/download.js";
import { downloadSignedFiles, type HashedFile, hashDirectory, manifestOf, sendStagedFiles } from "../transfers/staged-files.js";
import type { TaskRun, WorkerDeps } from "./task-run.js";
import type { ProgressUpdate, RegisterVersionOptions, TaskContext } from "./types.js";

/** Uploads every file under `dir` as the attempt's content (StageTaskOutputs): what the workspace lacks is sent. */
export async function stageDirectory(deps: WorkerDeps, run: TaskRun, dir: string): Promise<HashedFile[]> {
  const files = await hashDirectory(dir, { signal: run.leaseSignal });
  const staged = await run.call((signal) => deps.workers.stageTaskOutputs({ leaseToken: run.leaseToken, files: manifestOf(files) }, { signal }));
  await run.call((signal) => sendStagedFiles(deps.transfers, staged.uploads, files, { signal }));
  return files;
}

async function saveCheckpoint(deps: WorkerDeps, run: TaskRun, dir: string, epoch: number, metrics: Record<string, number> = {}): Promise<Checkpoint> {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`epoch ${epoch} is not a whole number from 0`);
  const files = await hashDirectory(dir, { signal: run.leaseSignal });
  // The epoch's points and lines first, so that watchers see them before its checkpoint.
  await run.reporter.flush();
  const leaseToken = run.leaseToken;
  const created = await run.call((signal) => deps.workers.createCheckpoint({ leaseToken, epoch, files: manifestOf(files), metrics }, { signal }));
  await run.call((signal) => sendStagedFiles(deps.transfers, created.uploads, files, { signal }));
  const committed = await run.call((signal) => deps.workers.commitCheckpoint({ leaseToken, epoch }, { signal }));
  // The answer to this report says at once whether a stop came meanwhile.
  await run.reporter.flush();
  return committed.checkpoint!;
}

async function registerVersion(deps: WorkerDeps, run: TaskRun, o: RegisterVersionOptions): Promise<Version> {
  if ((o.epoch === undefined) === (o.dir === undefined)) throw new Error("registerVersion: give either `epoch` (a committed checkpoint) or `dir` (files to upload)");
  const files = o.dir !== undefined ? manifestOf(await stageDirectory(deps, run, o.dir)) : [];
  const request = {
    leaseToken: run.leaseToken,
    ...(o.epoch !== undefined ? { epoch: o.epoch } : {}),
    files,
    model: o.model ? modelName(deps.workspace, o.model) : "",
    versionId: o.versionId ?? "",
    ...(o.version ? { version: o.version } : {}),
    requestId: o.requestId ?? randomUUID(),
  };
  const res = await run.call((signal) => deps.workers.registerVersion(request, { signal }));
  return res.version!;
}

/** The progress as the contract has it (int64 steps), checked as the server checks it. */
export function progressOf(p: ProgressUpdate) {
  if (p.fraction !== undefined && !(p.fraction >= 0 && p.fraction <= 1)) throw new RangeError(`progress: fraction ${p.fraction} is out of range: 0 to 1`);
  for (const k of ["epoch", "totalEpochs", "step", "totalSteps", "etaSeconds"] as const) {
    const n = p[k];
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) throw new RangeError(`progress: ${k} ${n} is not a whole number from 0`);
  }
  return {
    epoch: p.epoch ?? 0,
    totalEpochs: p.totalEpochs ?? 0,
    step: BigInt(p.step ?? 0),
    totalSteps: BigInt(p.totalSteps ?? 0),
    fraction: p.fraction ?? 0,
    message: [...(p.message ?? "")].slice(0, 1000).join(""),
    etaSeconds: BigInt(p.etaSeconds ?? 0),
  };
}

/** The claim's parameter block with the worker's key added (the server leaves it out), so fromParams connects as the worker. */
export function paramsWithKey(json: string, accessKey: string | undefined): string {
  const dot = accessKey?.indexOf(".") ?? -1;
  if (!json || !accessKey || dot <= 0) return json;
  try {
    const doc = JSON.parse(json) as { _alg_model_params?: Record<string, unknown> };
    const block = doc._alg_model_params;
    if (!block || typeof block !== "object" || block.accessId) return json;
    block.accessId = accessKey.slice(0, dot);
    block.accessKey = accessKey.slice(dot + 1);
    return JSON.stringify(doc);
  } catch {
    return json;
  }
}

export function createTaskContext(deps: WorkerDeps, run: TaskRun): TaskContext {
  const claim = run.claim;
  const download = (files: VersionFile[], dir: string): Promise<DownloadedFile[]> => downloadSignedFiles(deps.transfers, files, dir, { signal: run.signal });
  return {
    task: run.task,
    params: (claim.params ?? run.task.params ?? {}) as JsonObject,
    algModelParams: paramsWithKey(claim.algModelParams, deps.accessKey),
    signal: run.signal,
    get stopRequested() {
      return run.stopRequested;
    },
    get cancelRequested() {
      return run.cancelRequested;
    },
    resumeFrom: claim.resumeFrom,
    baseFiles: claim.baseFiles,
    inputFiles: claim.inputFiles,
    log: (text, stream) => run.reporter.log(text, stream),
    metric: (name, value, step, epoch) => run.reporter.metric(name, value, step, epoch),
    progress: (p) => run.reporter.progress(progressOf(p)),
    flush: () => run.reporter.flush(),
    saveCheckpoint: (dir, epoch, metrics) => saveCheckpoint(deps, run, dir, epoch, metrics),
    downloadResume: (dir) => download(claim.resumeFrom?.files ?? [], dir),
    downloadBase: (dir) => download(claim.baseFiles, dir),
    downloadInputs: (dir) => download(claim.inputFiles, dir),
    registerVersion: (options) => registerVersion(deps, run, options),
  };
}
