// GetDefaultParams: a template's defaults for a task type, with the batch
// size fitted to the free memory of the GPUs given, or of the workers named
// (as they last reported), as PaddleX does.
import type { Database } from "@modelreg/db";
import { TaskTypeSchema } from "@modelreg/proto";
import { enumChoices, enumCodes } from "../shared/enum-codes.js";
import { InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import type { Scope } from "../shared/scope.js";
import { requireWorkspace } from "../workspaces/index.js";
import { checkGpus, type GpuRecord, parseWorkerName, selectWorker } from "../workers/index.js";
import { adjustBatchSize, defaultParams } from "./params/index.js";
import { findTemplate, type TemplateView } from "./templates.js";
import { Violations } from "../shared/validation.js";

const TYPES = new Set(Object.values(enumCodes(TaskTypeSchema)));

export interface DefaultsQuery {
  parent: string;
  type: number;
  template: string;
  gpus: GpuRecord[];
  workers: string[];
}

export interface Defaults {
  params: Record<string, unknown>;
  template: TemplateView;
  notes: string[];
}

export async function defaultsFor(db: Database, scope: Scope, q: DefaultsQuery): Promise<Defaults> {
  const v = new Violations();
  if (!TYPES.has(q.type)) v.add("type", `${q.type === 0 ? "is required" : `${q.type} is not a task type`}: use ${enumChoices(TaskTypeSchema)}`);
  if (q.gpus.length > 0 && q.workers.length > 0) v.add("workers", "give gpus or workers, not both");
  checkGpus(v, "gpus", q.gpus);
  if (!v.empty) throw new InvalidArgumentError(v.list);
  const { workspace } = parseWorkspaceName("parent", q.parent);
  await requireWorkspace(db, scope, workspace);
  const template = await findTemplate(db, workspace, q.type, q.template);
  let params = defaultParams(template.template);
  const gpus = q.workers.length > 0 ? await workerGpus(db, scope, workspace, q.workers) : q.gpus;
  const notes: string[] = [];
  if (gpus.length > 0 || q.workers.length > 0) {
    const adjusted = adjustBatchSize(template.template, params, gpus.map((g) => ({ index: g.index, memoryTotalBytes: g.memoryTotalBytes, memoryFreeBytes: g.memoryFreeBytes })));
    params = adjusted.params;
    if (adjusted.note) notes.push(adjusted.note);
  }
  return { params, template, notes };
}

/** The GPUs of the named workers of the workspace, as they last reported. */
async function workerGpus(db: Database, scope: Scope, workspace: string, names: string[]): Promise<GpuRecord[]> {
  const gpus: GpuRecord[] = [];
  for (const [i, name] of names.entries()) {
    const n = parseWorkerName(`workers[${i}]`, name);
    const row = n.workspace === workspace ? await selectWorker(db, scope, n) : undefined;
    if (!row) throw new NotFoundError("worker", name);
    gpus.push(...(row.gpus as unknown as GpuRecord[]));
  }
  return gpus;
}
