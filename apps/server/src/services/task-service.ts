// modelreg.v1.TaskService: thin handlers over the tasks domain. WatchTask
// streams what the domain's watch yields, ending when the call does.
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  CancelTaskResponseSchema,
  CreateParamTemplateResponseSchema,
  CreateTaskResponseSchema,
  DeleteParamTemplateResponseSchema,
  DeleteTaskResponseSchema,
  GetDefaultParamsResponseSchema,
  GetTaskResponseSchema,
  GetWorkerResponseSchema,
  ListWorkersResponseSchema,
  RegisterTaskOutputResponseSchema,
  ListParamTemplatesResponseSchema,
  ListTaskCheckpointsResponseSchema,
  ListTaskLogsResponseSchema,
  ListTaskMetricsResponseSchema,
  ListTasksResponseSchema,
  ResumeTaskResponseSchema,
  StartTaskResponseSchema,
  StopTaskResponseSchema,
  type TaskService,
  UpdateTaskResponseSchema,
  type WatchTaskResponse,
  WatchTaskResponseSchema,
} from "@modelreg/proto";
import type { TaskEventRecord, TasksDomain, WatchItem } from "../domain/tasks/index.js";
import type { WorkersDomain } from "../domain/workers/index.js";
import { lineageOf, versionFieldsOf, versionToProto } from "../convert/resources.js";
import { gpusOf, workerToProto } from "../convert/workers.js";
import { baseUrlOfRequest, type FileUrls } from "../http/file-urls.js";
import { callScope, principalOf } from "../interceptors/auth.js";
import { untilDraining } from "./draining.js";
import { stagedToProto } from "./file-messages.js";
import {
  checkpointToProto,
  logLineToProto,
  metricPointToProto,
  newTemplateOf,
  taskEventToProto,
  taskFieldsOf,
  taskToProto,
  taskUpdateOf,
  templateToProto,
} from "../convert/tasks.js";

export interface TaskServiceDeps {
  tasks: TasksDomain;
  workers: WorkersDomain;
  /** URLs for a base address, issued to an access key ("" with AUTH=off): the upload URLs of a task's input files. */
  urls: (base: string, accessKeyId?: string) => FileUrls;
  publicUrl?: string;
  /** Aborted on shutdown: watch streams end (cleanly; their clients resume elsewhere with after_seq). */
  draining?: AbortSignal | undefined;
}

/**
 * The watchers of a task that one NOTIFY wakes share one read, and so the
 * same event objects (domain/tasks/watch.ts): each is converted once for
 * all of them, and held as long as any of them still has it to send.
 */
const eventMessages = new WeakMap<TaskEventRecord, WatchTaskResponse>();

function watchItemToProto(item: WatchItem): WatchTaskResponse {
  if (item.kind === "task") return create(WatchTaskResponseSchema, { kind: { case: "task", value: taskToProto(item.task) } });
  if (item.kind === "event") {
    let message = eventMessages.get(item.event);
    if (!message) {
      message = create(WatchTaskResponseSchema, { kind: { case: "event", value: taskEventToProto(item.event) } });
      eventMessages.set(item.event, message);
    }
    return message;
  }
  return create(WatchTaskResponseSchema, { kind: { case: "keepAlive", value: timestampFromDate(item.time) } });
}

export function createTaskService(deps: TaskServiceDeps): ServiceImpl<typeof TaskService> {
  const { tasks } = deps;
  const urlsFor = (ctx: HandlerContext) => deps.urls(baseUrlOfRequest(deps.publicUrl, ctx.url), principalOf(ctx).keyId);
  return {
    async createTask(req, ctx) {
      const principal = principalOf(ctx);
      const input = { parent: req.parent, taskId: req.taskId, task: taskFieldsOf(req.task), requestId: req.requestId, validateOnly: req.validateOnly };
      const r = await tasks.create(callScope(ctx), { ...input, creator: principal.user, accessKeyId: principal.keyId });
      const urls = urlsFor(ctx);
      return create(CreateTaskResponseSchema, {
        task: taskToProto(r.task),
        uploads: r.uploads.map((s) => stagedToProto(s, urls)),
        bytesToUpload: BigInt(r.bytesToUpload),
      });
    },
    async getTask(req, ctx) {
      return create(GetTaskResponseSchema, { task: taskToProto(await tasks.get(callScope(ctx), req.name)) });
    },
    async listTasks(req, ctx) {
      const page = await tasks.list(callScope(ctx), req.parent, { pageSize: req.pageSize, pageToken: req.pageToken, filter: req.filter, orderBy: req.orderBy });
      return create(ListTasksResponseSchema, { tasks: page.tasks.map(taskToProto), nextPageToken: page.nextPageToken });
    },
    async updateTask(req, ctx) {
      const t = await tasks.update(callScope(ctx), req.task?.name ?? "", req.updateMask?.paths ?? [], taskUpdateOf(req.task));
      return create(UpdateTaskResponseSchema, { task: taskToProto(t) });
    },
    async deleteTask(req, ctx) {
      await tasks.delete(callScope(ctx), req.name, req.etag);
      return create(DeleteTaskResponseSchema, {});
    },
    async startTask(req, ctx) {
      return create(StartTaskResponseSchema, { task: taskToProto(await tasks.start(callScope(ctx), req.name)) });
    },
    async stopTask(req, ctx) {
      return create(StopTaskResponseSchema, { task: taskToProto(await tasks.stop(callScope(ctx), req.name)) });
    },
    async resumeTask(req, ctx) {
      const t = await tasks.resume(callScope(ctx), { name: req.name, epoch: req.epoch, params: req.params });
      return create(ResumeTaskResponseSchema, { task: taskToProto(t) });
    },
    async cancelTask(req, ctx) {
      return create(CancelTaskResponseSchema, { task: taskToProto(await tasks.cancel(callScope(ctx), req.name)) });
    },
    async *watchTask(req, ctx) {
      const opts = { follow: req.follow, excludeLogs: req.excludeLogs };
      for await (const item of tasks.watch(callScope(ctx), req.name, Number(req.afterSeq), opts, untilDraining(ctx.signal, deps.draining))) yield watchItemToProto(item);
    },
    async listTaskLogs(req, ctx) {
      const q = { afterSeq: Number(req.afterSeq), tail: req.tail, pageSize: req.pageSize, pageToken: req.pageToken };
      const page = await tasks.logs(callScope(ctx), req.name, q);
      return create(ListTaskLogsResponseSchema, { lines: page.lines.map(logLineToProto), nextPageToken: page.nextPageToken, droppedLines: BigInt(page.droppedLines) });
    },
    async listTaskMetrics(req, ctx) {
      const series = await tasks.metrics(callScope(ctx), req.name, req.metricNames, req.maxPoints);
      return create(ListTaskMetricsResponseSchema, {
        series: series.map((s) => ({ name: s.name, points: s.points.map(metricPointToProto), totalPoints: BigInt(s.totalPoints) })),
      });
    },
    async listTaskCheckpoints(req, ctx) {
      const list = await tasks.checkpoints(callScope(ctx), req.name, req.includePending);
      return create(ListTaskCheckpointsResponseSchema, { checkpoints: list.map(checkpointToProto) });
    },
    async createParamTemplate(req, ctx) {
      const t = await tasks.createTemplate(callScope(ctx), req.parent, newTemplateOf(req.template));
      return create(CreateParamTemplateResponseSchema, { template: templateToProto(t) });
    },
    async listParamTemplates(req, ctx) {
      const list = await tasks.listTemplates(callScope(ctx), req.parent, req.type);
      return create(ListParamTemplatesResponseSchema, { templates: list.map(templateToProto) });
    },
    async deleteParamTemplate(req, ctx) {
      await tasks.deleteTemplate(callScope(ctx), req.name);
      return create(DeleteParamTemplateResponseSchema, {});
    },
    ...outputsAndWorkers(deps),
  };
}

/** RegisterTaskOutput, GetDefaultParams, ListWorkers and GetWorker. */
function outputsAndWorkers(deps: TaskServiceDeps): Pick<ServiceImpl<typeof TaskService>, "registerTaskOutput" | "getDefaultParams" | "listWorkers" | "getWorker"> {
  return {
    async registerTaskOutput(req, ctx) {
      const v = await deps.tasks.registerOutput(callScope(ctx), req.name, {
        source: req.checkpoint ? { checkpoint: req.checkpoint } : { latest: true },
        model: req.model,
        versionId: req.versionId,
        fields: versionFieldsOf(req.version),
        lineage: lineageOf(req.version),
        requestId: req.requestId,
      });
      return create(RegisterTaskOutputResponseSchema, { version: versionToProto(v) });
    },
    async getDefaultParams(req, ctx) {
      const d = await deps.tasks.defaults(callScope(ctx), { parent: req.parent, type: req.type, template: req.template, gpus: gpusOf(req.gpus), workers: req.workers });
      return create(GetDefaultParamsResponseSchema, { params: d.params as JsonObject, template: templateToProto(d.template), notes: d.notes });
    },
    async listWorkers(req, ctx) {
      const page = await deps.workers.list(callScope(ctx), req.parent, { pageSize: req.pageSize, pageToken: req.pageToken, onlineOnly: req.onlineOnly });
      return create(ListWorkersResponseSchema, { workers: page.workers.map(workerToProto), nextPageToken: page.nextPageToken });
    },
    async getWorker(req, ctx) {
      return create(GetWorkerResponseSchema, { worker: workerToProto(await deps.workers.get(callScope(ctx), req.name)) });
    },
  };
}
