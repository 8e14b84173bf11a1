// The rules of models that need no database: what a create, a list and an
// update must carry, and when a delete is refused.
import { FailedPreconditionError, InvalidArgumentError } from "../shared/errors.js";
import { type FilterExpr, parseFilter } from "../shared/filter/index.js";
import { type OrderBy, parseOrderBy } from "../shared/order-by.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import { resolveUpdateMask } from "../shared/update-mask.js";
import { checkCommonFields, checkModelId, checkPageSize, checkRequestId, collect, Violations } from "../shared/validation.js";
import type { ModelFields, ModelListOptions } from "./types.js";

/** The fields an update mask may name. */
export const UPDATABLE = ["description", "labels"] as const;
export type UpdatableField = (typeof UPDATABLE)[number];

/** The keys ListModels orders by; name by default. */
export const ORDER_KEYS = ["name", "create_time", "update_time", "version_count"] as const;

/** A create's arguments, checked: the workspace it goes into. */
export function checkCreate(parent: string, modelId: string, fields: ModelFields, requestId: string): { workspace: string } {
  const v = new Violations();
  const workspace = collect(v, () => parseWorkspaceName("parent", parent))?.workspace ?? "";
  checkModelId(v, "model_id", modelId);
  checkCommonFields(v, "model", fields);
  checkRequestId(v, requestId);
  if (!v.empty) throw new InvalidArgumentError(v.list);
  return { workspace };
}

/** A list's arguments, checked and parsed. */
export function checkList(parent: string, opts: ModelListOptions): { workspace: string; limit: number; filter: string; expr: FilterExpr; order: OrderBy } {
  const v = new Violations();
  const workspace = collect(v, () => parseWorkspaceName("parent", parent))?.workspace;
  const limit = checkPageSize(v, opts.pageSize);
  const filter = opts.filter ?? "";
  const expr = collect(v, () => parseFilter(filter));
  const order = collect(v, () => parseOrderBy(opts.orderBy ?? "", [...ORDER_KEYS], [], { field: "name", desc: false }));
  if (!v.empty || !workspace || !expr || !order) throw new InvalidArgumentError(v.list);
  return { workspace, limit, filter, expr, order };
}

/** An update's mask, resolved, with the masked fields checked. */
export function checkUpdate(paths: string[], fields: ModelFields): Set<UpdatableField> {
  const mask = resolveUpdateMask(paths, UPDATABLE);
  const v = new Violations();
  checkCommonFields(v, "model", {
    description: mask.has("description") ? fields.description : undefined,
    labels: mask.has("labels") ? fields.labels : undefined,
  });
  if (!v.empty) throw new InvalidArgumentError(v.list);
  return mask;
}

/** A model with versions is deleted only with force, which deletes them too. */
export function checkDelete(resource: string, versionCount: number, force: boolean): void {
  if (versionCount > 0 && !force)
    throw new FailedPreconditionError("MODEL_HAS_VERSIONS", `${resource} still has ${versionCount} version(s); delete them first or pass force to delete them with the model`, {
      resource,
      version_count: String(versionCount),
    });
}
