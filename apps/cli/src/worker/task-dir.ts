// The directory and environment `modelreg worker` gives the program it runs
// for a task: a fresh directory per attempt holding params.json, the
// checkpoint to resume from, the base version's and the input files, an
// empty output/ for the files the task produces, and where a result may be
// written; the same facts in environment variables.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import type { TaskContext } from "@modelreg/sdk";
import { taskTypeWord } from "../task-flags.js";

export interface TaskDir {
  dir: string;
  paramsFile: string;
  outputDir: string;
  resultFile: string;
  /** Set when the attempt resumes from a checkpoint (its files are there). */
  resumeDir: string | undefined;
  baseDir: string | undefined;
  inputDir: string | undefined;
  env: Record<string, string>;
}

/** The environment variables a task's program gets (beside the worker's own), for help and docs. */
export const TASK_ENV_HELP: [string, string][] = [
  ["MODELREG_TASK", "the task's name, workspaces/{w}/tasks/{task}"],
  ["MODELREG_TASK_ID, MODELREG_TASK_TYPE, MODELREG_ATTEMPT", "its id, type (train, evaluate, ...) and attempt number"],
  ["MODELREG_PARAMS", "the params as a JSON object (also in $MODELREG_TASK_DIR/params.json = MODELREG_PARAMS_FILE)"],
  ["MODELREG_TASK_DIR", "a fresh directory for this attempt: write checkpoints and scratch files here"],
  ["MODELREG_OUTPUT_DIR", "files written here become the task's output files when the program exits 0"],
  ["MODELREG_RESULT_FILE", "a JSON object written here becomes the task's result (e.g. an evaluation's metrics)"],
  ["MODELREG_RESUME_DIR, MODELREG_RESUME_EPOCH", "only when resuming: the checkpoint's files, downloaded and verified, and its epoch"],
  ["MODELREG_BASE_DIR", "only with a base version: its files"],
  ["MODELREG_INPUT_DIR", "only with input files (predict): the files"],
  ["_alg_model_params, MODELREG_ALG_MODEL_PARAMS", "the AIMaster-style block (server, workspace, model, task, algorithm, data version, key) for the SDK's fromParams"],
  ["MODELREG_SERVER, MODELREG_WORKSPACE", "the server and workspace the worker uses"],
];

export interface TaskDirOptions {
  /** Where the attempt's directory is made. */
  root: string;
  server: string;
  workspace: string;
}

/** Makes the attempt's directory, downloads what it resumes from and works on, and builds the environment. */
export async function prepareTaskDir(ctx: TaskContext, o: TaskDirOptions): Promise<TaskDir> {
  const t = ctx.task;
  const taskId = t.name.slice(t.name.lastIndexOf("/") + 1);
  const dir = await mkdtemp(join(o.root, `${taskId}-a${t.attempt}-`));
  try {
    return await fill(ctx, o, dir, taskId);
  } catch (err) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

async function fill(ctx: TaskContext, o: TaskDirOptions, dir: string, taskId: string): Promise<TaskDir> {
  const t = ctx.task;
  const paramsFile = join(dir, "params.json");
  const outputDir = join(dir, "output");
  await mkdir(outputDir);
  const params = JSON.stringify(ctx.params);
  await writeFile(paramsFile, `${JSON.stringify(ctx.params, null, 2)}\n`);
  const fetchInto = async (name: string, files: unknown[], download: (d: string) => Promise<unknown>) => {
    if (files.length === 0) return undefined;
    const into = join(dir, name);
    await mkdir(into);
    await download(into);
    return into;
  };
  const resumeDir = ctx.resumeFrom ? await fetchInto("resume", ctx.resumeFrom.files, (d) => ctx.downloadResume(d)) : undefined;
  const baseDir = await fetchInto("base", ctx.baseFiles, (d) => ctx.downloadBase(d));
  const inputDir = await fetchInto("input", ctx.inputFiles, (d) => ctx.downloadInputs(d));
  const env: Record<string, string> = {
    MODELREG_SERVER: o.server,
    MODELREG_WORKSPACE: o.workspace,
    MODELREG_TASK: t.name,
    MODELREG_TASK_ID: taskId,
    MODELREG_TASK_TYPE: taskTypeWord(t.type),
    MODELREG_ATTEMPT: String(t.attempt),
    MODELREG_PARAMS: params,
    MODELREG_PARAMS_FILE: paramsFile,
    MODELREG_TASK_DIR: dir,
    MODELREG_OUTPUT_DIR: outputDir,
    MODELREG_RESULT_FILE: join(dir, "result.json"),
    MODELREG_ALG_MODEL_PARAMS: ctx.algModelParams,
    _alg_model_params: ctx.algModelParams,
    ...(resumeDir ? { MODELREG_RESUME_DIR: resumeDir, MODELREG_RESUME_EPOCH: String(ctx.resumeFrom!.epoch) } : {}),
    ...(baseDir ? { MODELREG_BASE_DIR: baseDir } : {}),
    ...(inputDir ? { MODELREG_INPUT_DIR: inputDir } : {}),
  };
  return { dir, paramsFile, outputDir, resultFile: join(dir, "result.json"), resumeDir, baseDir, inputDir, env };
}

/** Whether a directory holds a regular file anywhere below it. */
export async function holdsFiles(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.isFile()) return true;
    if (e.isDirectory() && (await holdsFiles(join(dir, e.name)))) return true;
  }
  return false;
}

/** The result the program wrote: a JSON object; undefined when there is no file; throws when it is not an object. */
export async function readResult(path: string): Promise<JsonObject | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  const doc = JSON.parse(text) as unknown;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${path} must hold a JSON object`);
  return doc as JsonObject;
}
