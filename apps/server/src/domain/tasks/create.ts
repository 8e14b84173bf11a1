// Creating a task: its template found and its params filled and checked,
// what it refers to (base version, model, parent task) resolved within the
// workspace, then the row, its input files, their upload sessions, its
// first event and the audit row in one transaction. `validate_only` runs
// the same transaction and rolls it back.
import { randomBytes } from "node:crypto";
import { type Database, models, type Tx, versions } from "@modelreg/db";
import { TaskState, TaskType } from "@modelreg/proto";
import { and, eq } from "drizzle-orm";
import type { StagedFile, TaskContent } from "../files/index.js";
import { isForeignKeyViolation, isUniqueViolation } from "../shared/db-errors.js";
import { AlreadyExistsError, NotFoundError } from "../shared/errors.js";
import { modelResourceName, parseModelName, parseVersionRefName, versionResourceName } from "../shared/resource-names.js";
import { inScope, type Scope, writeAudit } from "../shared/scope.js";
import { versionNotFound, versionRefWhere } from "../versions/index.js";
import { requireWorkspace } from "../workspaces/index.js";
import { insertEvent, notifyEvents, notifyQueued } from "./events-sql.js";
import { resolveParams } from "./params/index.js";
import { checkCreate, DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, generatedTaskId, parseTaskName, taskResourceName } from "./rules.js";
import * as q from "./sql.js";
import { findTemplate } from "./templates.js";
import { type CreateTaskInput, EVENT_KIND, type TaskView } from "./types.js";
import { viewOf } from "./view.js";

export interface CreateResult {
  task: TaskView;
  uploads: StagedFile[];
  bytesToUpload: number;
}

/** Thrown to roll a validate-only create back with its result. */
class ValidateOnly {
  constructor(readonly result: CreateResult) {}
}

export async function createTask(db: Database, content: TaskContent, scope: Scope, input: CreateTaskInput): Promise<CreateResult> {
  const { workspace } = checkCreate(input.parent, input.taskId, input.task, input.requestId);
  await requireWorkspace(db, scope, workspace);
  const inputs = input.task.inputFiles.length > 0 ? await content.check(input.task.inputFiles, "task.input_files") : [];
  for (let tries = 0; ; tries++) {
    try {
      return await db.transaction((tx) => insert(tx, content, scope, workspace, input, inputs));
    } catch (err) {
      if (err instanceof ValidateOnly) return err.result;
      // The workspace was deleted meanwhile.
      if (isForeignKeyViolation(err)) throw new NotFoundError("workspace", `workspaces/${workspace}`);
      if (!isUniqueViolation(err)) throw err;
      // The same request_id raced this call: answer with the task it made.
      const raced = input.requestId === "" ? undefined : await q.selectByRequestId(db, workspace, input.requestId);
      if (raced) return { task: await viewOf(db, raced), uploads: [], bytesToUpload: 0 };
      // A generated id taken (one in 4 billion): draw another.
      if (input.taskId === "" && tries < 3) continue;
      throw new AlreadyExistsError("task", taskResourceName(workspace, input.taskId));
    }
  }
}

async function insert(tx: Tx, content: TaskContent, scope: Scope, workspace: string, input: CreateTaskInput, inputs: CreateTaskInput["task"]["inputFiles"]): Promise<CreateResult> {
  const f = input.task;
  if (input.requestId !== "") {
    const earlier = await q.selectByRequestId(tx, workspace, input.requestId);
    if (earlier) return { task: await viewOf(tx, earlier), uploads: [], bytesToUpload: 0 };
  }
  const template = await findTemplate(tx, workspace, f.type, f.template);
  const parent = f.parentTask === "" ? undefined : await parentTask(tx, scope, f.parentTask, workspace);
  // PRUNE_TRAIN inherits its TRAIN task's params; what it is given overrides them.
  const given = f.type === TaskType.PRUNE_TRAIN && parent ? { ...parent.givenParams, ...f.params } : f.params;
  const params = resolveParams(template.template, given);
  const base = f.baseVersion === "" ? undefined : await baseVersion(tx, scope, f.baseVersion, workspace);
  const model = f.model === "" ? undefined : await targetModel(tx, scope, f.model, workspace);
  const taskId = input.taskId || generatedTaskId(f.type, randomBytes(4).toString("hex"));
  const row = await q.insertTask(tx, {
    workspace,
    taskId,
    type: f.type,
    description: f.description,
    labels: f.labels,
    template: template.template.id,
    params,
    givenParams: given,
    queue: f.queue || DEFAULT_QUEUE,
    reqGpuCount: f.requirements.gpuCount,
    reqGpuMemory: f.requirements.gpuMemoryBytes,
    reqCpuCount: f.requirements.cpuCount,
    reqLabels: f.requirements.labels,
    baseVersion: base?.name ?? "",
    baseVersionId: base?.id ?? null,
    model: model?.name ?? "",
    modelId: model?.id ?? null,
    parentTask: parent ? taskResourceName(parent.workspace, parent.taskId) : "",
    parentTaskId: parent?.id ?? null,
    dataVersion: f.dataVersion,
    algorithmCode: f.algorithmCode,
    algorithmVersion: f.algorithmVersion,
    state: TaskState.QUEUED,
    maxAttempts: f.maxAttempts || DEFAULT_MAX_ATTEMPTS,
    requestId: input.requestId || null,
    creator: input.creator,
    lastSeq: 1,
  });
  let staged = { files: [] as StagedFile[], bytesToUpload: 0 };
  if (inputs.length > 0) {
    await q.insertFiles(tx, row.id, q.FILE_KIND.input, inputs);
    staged = await content.stage(tx, { workspace, taskRowId: row.id, taskId }, inputs, input.accessKeyId, "task.input_files");
  }
  // Inputs still to upload keep the task PENDING until StartTask.
  const state = staged.files.every((s) => s.present) ? TaskState.QUEUED : TaskState.PENDING;
  const created = state === TaskState.QUEUED ? row : await q.updateFields(tx, row.id, { state });
  await insertEvent(tx, row.id, 1, EVENT_KIND.state, { state, previousState: TaskState.UNSPECIFIED, message: "created", attempt: 0, worker: "" });
  const result = { task: await viewOf(tx, created), uploads: staged.files, bytesToUpload: staged.bytesToUpload };
  if (input.validateOnly) throw new ValidateOnly(result);
  await notifyEvents(tx, row.id, 1);
  if (state === TaskState.QUEUED) await notifyQueued(tx, workspace);
  await writeAudit(tx, scope);
  return result;
}

/** The parent task, in the same workspace, or NotFound. */
async function parentTask(tx: Tx, scope: Scope, name: string, workspace: string) {
  const n = parseTaskName("task.parent_task", name);
  const hit = n.workspace === workspace ? await q.selectByName(tx, scope, n) : undefined;
  if (!hit) throw new NotFoundError("task", name);
  return hit;
}

/** The base version (an alias resolved to the version it points at now), in the same workspace, or NotFound. */
async function baseVersion(tx: Tx, scope: Scope, ref: string, workspace: string): Promise<{ id: string; name: string }> {
  const n = parseVersionRefName("task.base_version", ref);
  const [hit] =
    n.workspace === workspace
      ? await tx
          .select({ id: versions.id, version: versions.version, model: models.name })
          .from(versions)
          .innerJoin(models, eq(versions.modelId, models.id))
          .where(versionRefWhere(scope, n))
      : [];
  if (!hit) throw await versionNotFound(tx, scope, ref, n);
  return { id: hit.id, name: versionResourceName(workspace, hit.model, hit.version) };
}

async function targetModel(tx: Tx, scope: Scope, ref: string, workspace: string): Promise<{ id: string; name: string }> {
  const n = parseModelName("task.model", ref);
  const [hit] =
    n.workspace === workspace
      ? await tx
          .select({ id: models.id, name: models.name })
          .from(models)
          .where(and(eq(models.workspace, workspace), eq(models.nameKey, n.model.toLowerCase()), inScope(scope, models.workspace)))
      : [];
  if (!hit) throw new NotFoundError("model", ref);
  return { id: hit.id, name: modelResourceName(workspace, hit.name) };
}
