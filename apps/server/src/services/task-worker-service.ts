// modelreg.v1.TaskWorkerService: what workers call. Thin handlers over the
// workers domain and the tasks domain's worker side (TaskRuns); files a
// worker is handed (the checkpoint to resume from, base and input files)
// carry download URLs signed for the worker's key.
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  ClaimTaskResponseSchema,
  CommitCheckpointResponseSchema,
  CompleteTaskResponseSchema,
  CreateCheckpointResponseSchema,
  FailTaskResponseSchema,
  ReleaseTaskResponseSchema,
  RegisterVersionResponseSchema,
  RegisterWorkerResponseSchema,
  ReportProgressResponseSchema,
  StageTaskOutputsResponseSchema,
  type ReportProgressRequest,
  type TaskWorkerService,
  type VersionFile,
} from "@modelreg/proto";
import type { FileSpec, StoredFile } from "../domain/files/index.js";
import type { Claimed, OutputSource, ReportInput, TaskRuns } from "../domain/tasks/index.js";
import { lineageOf, versionFieldsOf, versionToProto } from "../convert/resources.js";
import { fileSpecOf } from "../convert/files.js";
import type { WorkersDomain } from "../domain/workers/index.js";
import { checkpointToProto, progressOf, taskToProto } from "../convert/tasks.js";
import { gpusOf, workerFieldsOf, workerToProto } from "../convert/workers.js";
import { baseUrlOfRequest, type FileUrls } from "../http/file-urls.js";
import { callScope, principalOf } from "../interceptors/auth.js";
import { untilDraining } from "./draining.js";
import { fileWithUrl, stagedToProto } from "./file-messages.js";

export interface TaskWorkerServiceDeps {
  workers: WorkersDomain;
  runs: TaskRuns;
  urls: (base: string, accessKeyId?: string) => FileUrls;
  publicUrl?: string;
  /** Aborted on shutdown: a waiting claim answers at once (no task). */
  draining?: AbortSignal | undefined;
}

const filesOf = (files: VersionFile[]): FileSpec[] => files.map(fileSpecOf);

export function createTaskWorkerService(deps: TaskWorkerServiceDeps): ServiceImpl<typeof TaskWorkerService> {
  const base = (ctx: HandlerContext) => baseUrlOfRequest(deps.publicUrl, ctx.url);
  const urlsFor = (ctx: HandlerContext) => deps.urls(base(ctx), principalOf(ctx).keyId);
  const reportIntervalMs = Math.max(1000, Math.floor(deps.runs.settings.leaseMs / 6));
  return {
    async registerWorker(req, ctx) {
      const w = await deps.workers.register(callScope(ctx), req.parent, req.workerId, workerFieldsOf(req.worker));
      return create(RegisterWorkerResponseSchema, { worker: workerToProto(w) });
    },

    async claimTask(req, ctx) {
      const claimed = await deps.runs.claim(callScope(ctx), { worker: req.worker, waitSeconds: req.waitSeconds, gpus: req.gpus.length > 0 ? gpusOf(req.gpus) : undefined }, untilDraining(ctx.signal, deps.draining));
      if (!claimed) return create(ClaimTaskResponseSchema, { reportIntervalMs });
      return claimedToProto(claimed, urlsFor(ctx), reportIntervalMs, algModelParams(base(ctx), claimed.task.row, principalOf(ctx).user));
    },

    async reportProgress(req, ctx) {
      const r = await deps.runs.report(callScope(ctx), reportOf(req));
      return create(ReportProgressResponseSchema, {
        stopRequested: r.stopRequested,
        cancelRequested: r.cancelRequested,
        leaseExpireTime: timestampFromDate(r.leaseExpireTime),
        reportIntervalMs,
        linesRecorded: r.linesRecorded,
        pointsRecorded: r.pointsRecorded,
      });
    },

    async createCheckpoint(req, ctx) {
      const c = await deps.runs.createCheckpoint(callScope(ctx), { ...req, files: filesOf(req.files), accessKeyId: principalOf(ctx).keyId });
      const urls = urlsFor(ctx);
      return create(CreateCheckpointResponseSchema, {
        checkpoint: checkpointToProto(c.checkpoint),
        uploads: c.uploads.map((s) => stagedToProto(s, urls)),
        bytesToUpload: BigInt(c.bytesToUpload),
      });
    },

    async commitCheckpoint(req, ctx) {
      return create(CommitCheckpointResponseSchema, { checkpoint: checkpointToProto(await deps.runs.commitCheckpoint(callScope(ctx), req.leaseToken, req.epoch)) });
    },

    async stageTaskOutputs(req, ctx) {
      const s = await deps.runs.stageOutputs(callScope(ctx), req.leaseToken, filesOf(req.files), principalOf(ctx).keyId);
      const urls = urlsFor(ctx);
      return create(StageTaskOutputsResponseSchema, { uploads: s.uploads.map((u) => stagedToProto(u, urls)), bytesToUpload: BigInt(s.bytesToUpload) });
    },

    async completeTask(req, ctx) {
      const t = await deps.runs.complete(callScope(ctx), { ...req, result: (req.result ?? {}) as JsonObject, outputFiles: filesOf(req.outputFiles) });
      return create(CompleteTaskResponseSchema, { task: taskToProto(t) });
    },

    async failTask(req, ctx) {
      return create(FailTaskResponseSchema, { task: taskToProto(await deps.runs.fail(callScope(ctx), req.leaseToken, req.message, req.retryable)) });
    },

    async releaseTask(req, ctx) {
      return create(ReleaseTaskResponseSchema, { task: taskToProto(await deps.runs.release(callScope(ctx), req.leaseToken, req.reason)) });
    },

    async registerVersion(req, ctx) {
      const source: OutputSource = req.epoch !== undefined ? { epoch: req.epoch } : { files: filesOf(req.files) };
      const v = await deps.runs.registerVersion(callScope(ctx), req.leaseToken, {
        source,
        model: req.model,
        versionId: req.versionId,
        fields: versionFieldsOf(req.version),
        lineage: lineageOf(req.version),
        requestId: req.requestId,
      });
      return create(RegisterVersionResponseSchema, { version: versionToProto(v) });
    },
  };
}

/** The AIMaster-style block a task's training code reads (SDK: createRegistryClient.fromParams); the worker adds its own key. */
function algModelParams(endPoint: string, t: { workspace: string; taskId: string; model: string; algorithmCode: string; algorithmVersion: string; dataVersion: string }, user: string) {
  return {
    _alg_model_params: {
      endPoint,
      tenant: t.workspace,
      userId: user,
      algCode: t.algorithmCode,
      algVersion: t.algorithmVersion,
      dataVersion: t.dataVersion,
      model: t.model,
      sourceTask: `workspaces/${t.workspace}/tasks/${t.taskId}`,
    },
  };
}

function claimedToProto(claimed: Claimed, urls: FileUrls, reportIntervalMs: number, params: object) {
  const ws = claimed.task.row.workspace;
  const signed = (files: StoredFile[]) => files.map((f) => fileWithUrl(ws, f, urls));
  const task = taskToProto(claimed.task);
  return create(ClaimTaskResponseSchema, {
    task,
    leaseToken: claimed.leaseToken,
    leaseExpireTime: timestampFromDate(claimed.leaseExpireTime),
    reportIntervalMs,
    resumeFrom: claimed.resumeFrom ? { ...checkpointToProto(claimed.resumeFrom), files: signed(claimed.resumeFrom.stored) } : undefined,
    baseFiles: signed(claimed.baseFiles),
    inputFiles: signed(claimed.inputFiles),
    algModelParams: JSON.stringify(params),
    params: task.params,
  });
}

function reportOf(req: ReportProgressRequest): ReportInput {
  return {
    leaseToken: req.leaseToken,
    progress: req.progress ? progressOf(req.progress) : undefined,
    metrics: req.metrics.map((p) => ({ name: p.name, step: Number(p.step), value: p.value, epoch: p.epoch, time: p.time ? timestampDate(p.time) : undefined })),
    logs: req.logs.map((l) => ({ text: l.text, stream: l.stream, time: l.time ? timestampDate(l.time) : undefined })),
    firstLineNumber: Number(req.firstLineNumber),
    gpus: req.gpus.length > 0 ? gpusOf(req.gpus) : undefined,
  };
}
