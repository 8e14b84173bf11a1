// Params templates: the built-in ones (./params/templates.ts) and a
// workspace's own (the param_templates table), found by the id a task
// names, and the params a task gets from one.
import { type Database, paramTemplates, type Tx } from "@modelreg/db";
import { TaskTypeSchema } from "@modelreg/proto";
import { and, asc, eq } from "drizzle-orm";
import { enumCodes } from "../shared/enum-codes.js";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { isUniqueViolation } from "../shared/db-errors.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import { inScope, type Scope, writeAudit } from "../shared/scope.js";
import { collect, printable, Violations } from "../shared/validation.js";
import { BUILT_IN_TEMPLATES, builtInTemplate, checkTemplateSchema, type ParamTemplate } from "./params/index.js";
import { TASK_ID, typeName } from "./rules.js";
import { requireWorkspace } from "../workspaces/index.js";

/** A template as the API shows it: built in, or a workspace's own. */
export interface TemplateView {
  template: ParamTemplate;
  /** TaskType numbers. */
  types: number[];
  /** `templates/{id}` or `workspaces/{w}/templates/{id}`. */
  name: string;
  builtIn: boolean;
  createTime?: Date;
}

/** Task type numbers by name (`TRAIN: 1`), as templates name types. */
const TYPE_NUMBERS: Readonly<Record<string, number>> = enumCodes(TaskTypeSchema);

function builtInView(t: ParamTemplate): TemplateView {
  return { template: t, types: t.types.map((n) => TYPE_NUMBERS[n] ?? 0), name: `templates/${t.id}`, builtIn: true };
}

/** The template a task of `type` names (`""` = the type's default), built in or the workspace's own; INVALID_ARGUMENT naming what exists. */
export async function findTemplate(q: Tx | Database, workspace: string, type: number, id: string): Promise<TemplateView> {
  const builtIn = builtInTemplate(typeName(type), id);
  if (builtIn) return builtInView(builtIn);
  if (id !== "") {
    const [row] = await q
      .select()
      .from(paramTemplates)
      .where(and(eq(paramTemplates.workspace, workspace), eq(paramTemplates.templateId, id)));
    if (row?.types.includes(type)) return rowView(row);
  }
  const known = [...BUILT_IN_TEMPLATES.filter((t) => t.types.includes(typeName(type))).map((t) => t.id), ...(await ownIds(q, workspace, type))];
  throw InvalidArgumentError.field(
    "task.template",
    `${id === "" ? "there is no default template" : `"${printable(id)}" is not a template`} for ${typeName(type)} tasks in workspaces/${workspace}; use one of ${known.join(", ") || "(none)"}`,
  );
}

async function ownIds(q: Tx | Database, workspace: string, type: number): Promise<string[]> {
  const rows = await q.select({ id: paramTemplates.templateId, types: paramTemplates.types }).from(paramTemplates).where(eq(paramTemplates.workspace, workspace));
  return rows.filter((r) => r.types.includes(type)).map((r) => r.id);
}

function rowView(row: typeof paramTemplates.$inferSelect): TemplateView {
  const template: ParamTemplate = { id: row.templateId, description: row.description, types: row.types.map(typeName), schema: row.schema };
  return { template, types: row.types, name: `workspaces/${row.workspace}/templates/${row.templateId}`, builtIn: false, createTime: row.createTime };
}

/** Built-in templates first, then the workspace's own by id; only those for `type` when it is set. */
export async function listTemplates(db: Database, scope: Scope, parent: string, type: number): Promise<TemplateView[]> {
  const { workspace } = parseWorkspaceName("parent", parent);
  await requireWorkspace(db, scope, workspace);
  const rows = await db
    .select()
    .from(paramTemplates)
    .where(and(eq(paramTemplates.workspace, workspace), inScope(scope, paramTemplates.workspace)))
    .orderBy(asc(paramTemplates.templateId));
  const builtIns = BUILT_IN_TEMPLATES.map(builtInView);
  return [...builtIns, ...rows.map(rowView)].filter((v) => type === 0 || v.types.includes(type));
}

export interface NewTemplate {
  templateId: string;
  description: string;
  types: number[];
  schema: unknown;
}

export async function createTemplate(db: Database, scope: Scope, parent: string, t: NewTemplate): Promise<TemplateView> {
  const v = new Violations();
  const workspace = collect(v, () => parseWorkspaceName("parent", parent))?.workspace ?? "";
  if (!TASK_ID.test(t.templateId)) v.add("template.template_id", `${t.templateId === "" ? "is required" : `"${printable(t.templateId)}" is not a template id`}: 1-63 lowercase letters, digits and '-', starting with a letter`);
  else if (BUILT_IN_TEMPLATES.some((b) => b.id === t.templateId)) v.add("template.template_id", `"${t.templateId}" is a built-in template's id; choose another`);
  if (t.types.length === 0) v.add("template.types", "is required: the task types the template serves");
  for (const type of t.types) if (!Object.values(TYPE_NUMBERS).includes(type)) v.add("template.types", `${type} is not a task type`);
  if ([...t.description].length > 1000) v.add("template.description", `is ${[...t.description].length} characters long; the limit is 1000`);
  collect(v, () => checkTemplateSchema(t.schema, "template.schema"));
  if (!v.empty) throw new InvalidArgumentError(v.list);
  await requireWorkspace(db, scope, workspace);
  try {
    return await db.transaction(async (tx) => {
      const [row] = await tx
        .insert(paramTemplates)
        .values({ workspace, templateId: t.templateId, description: t.description, types: [...new Set(t.types)], schema: t.schema as Record<string, unknown> })
        .returning();
      await writeAudit(tx, scope);
      return rowView(row!);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyExistsError("template", `workspaces/${workspace}/templates/${t.templateId}`);
    throw err;
  }
}

export async function deleteTemplate(db: Database, scope: Scope, name: string): Promise<void> {
  const m = /^workspaces\/([^/]+)\/templates\/([^/]+)$/.exec(name);
  if (!m) throw InvalidArgumentError.field("name", `${name === "" ? "is required" : `"${printable(name)}" is not a template name`}: expected workspaces/{workspace}/templates/{template}`);
  await db.transaction(async (tx) => {
    const gone = await tx
      .delete(paramTemplates)
      .where(and(eq(paramTemplates.workspace, m[1]!), eq(paramTemplates.templateId, m[2]!), inScope(scope, paramTemplates.workspace)))
      .returning({ id: paramTemplates.templateId });
    if (gone.length === 0) throw new NotFoundError("template", name);
    await writeAudit(tx, scope);
  });
}
