// createRegistryClient.fromParams(): connect from the one JSON string a
// training job is handed (the AIMaster parameter block):
//   {"_alg_model_params": {"endPoint": "http://registry:8080", "tenant": "team-a",
//     "userId": "alice", "accessId": "AK…", "accessKey": "…",
//     "algCode": "fraud-xgb", "algVersion": "2.3.1",
//     "sourceTask": "workspaces/team-a/tasks/train-3f9a0c1e", "dataVersion": "2026-10",
//     "model": "workspaces/team-a/models/fraud"}}
// (a task's worker is handed such a block, the last three included).
// Versions created through such a client record algCode/algVersion as their
// lineage (training_algorithm_code/_version) unless the call sets them, and
// sourceTask/dataVersion as lineage.source_task/data_version, each unless
// the call sets it, whether or not the request carries a `version`.
import { clone, create } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { LineageSchema, VersionSchema, type CreateVersionRequest } from "@modelreg/proto";
import type { RegistryClientOptions } from "./client.js";

export interface AlgorithmParams {
  endPoint: string;
  tenant: string;
  userId: string;
  accessId: string;
  accessKey: string;
  algCode: string;
  algVersion: string;
  /** The task the code runs for (`workspaces/{w}/tasks/{t}`), or "". */
  sourceTask: string;
  /** The data set's version, or "". */
  dataVersion: string;
  /** The model the task's outputs go to (`workspaces/{w}/models/{m}`), or "". */
  model: string;
}

/** Parses and checks the block; errors say which field is missing or wrong. */
export function parseAlgorithmParams(input: string | object): AlgorithmParams {
  let doc: unknown = input;
  if (typeof input === "string") {
    try {
      doc = JSON.parse(input);
    } catch (e) {
      throw new Error(`fromParams: the parameters are not valid JSON (${(e as Error).message})`);
    }
  }
  const block = (doc as { _alg_model_params?: unknown })?._alg_model_params ?? doc;
  if (!block || typeof block !== "object") throw new Error('fromParams: expected an object with "_alg_model_params"');
  const b = block as Record<string, unknown>;
  const str = (k: string, required: boolean): string => {
    const v = b[k];
    if (v === undefined || v === null || v === "") {
      if (required) throw new Error(`fromParams: "_alg_model_params.${k}" is required`);
      return "";
    }
    if (typeof v !== "string" && typeof v !== "number") throw new Error(`fromParams: "_alg_model_params.${k}" must be a string`);
    return String(v);
  };
  const endPoint = str("endPoint", true);
  return {
    endPoint: /^https?:\/\//.test(endPoint) ? endPoint : `http://${endPoint}`,
    tenant: str("tenant", false) || "default",
    userId: str("userId", false),
    accessId: str("accessId", false),
    accessKey: str("accessKey", false),
    algCode: str("algCode", false),
    algVersion: str("algVersion", false),
    sourceTask: str("sourceTask", false),
    dataVersion: str("dataVersion", false),
    model: str("model", false),
  };
}

/**
 * Records the parameters as the lineage of every CreateVersion that does not
 * set them itself, with or without a `version` in the request: the
 * algorithm (training_algorithm_code/_version, both or neither), the source
 * task and the data version (each on its own). The caller's message is not
 * changed.
 */
export function lineageInterceptor(p: Pick<AlgorithmParams, "algCode" | "algVersion"> & Partial<Pick<AlgorithmParams, "sourceTask" | "dataVersion">>): Interceptor {
  return (next) => (req) => {
    if (req.stream || req.method.name !== "CreateVersion" || req.service.typeName !== "modelreg.v1.VersionService") return next(req);
    const message = req.message as CreateVersionRequest;
    const given = message.version?.lineage;
    const fill = {
      algorithm: !!(p.algCode || p.algVersion) && !given?.trainingAlgorithmCode && !given?.trainingAlgorithmVersion,
      sourceTask: !!p.sourceTask && !given?.sourceTask,
      dataVersion: !!p.dataVersion && !given?.dataVersion,
    };
    if (!fill.algorithm && !fill.sourceTask && !fill.dataVersion) return next(req);
    const version = message.version ? clone(VersionSchema, message.version) : create(VersionSchema);
    version.lineage ??= create(LineageSchema);
    const lineage = version.lineage;
    if (fill.algorithm) {
      lineage.trainingAlgorithmCode = p.algCode;
      lineage.trainingAlgorithmVersion = p.algVersion;
    }
    if (fill.sourceTask) lineage.sourceTask = p.sourceTask!;
    if (fill.dataVersion) lineage.dataVersion = p.dataVersion!;
    const changed: CreateVersionRequest = { ...message, version };
    return next({ ...req, message: changed });
  };
}

/** Client options for the parameters (overrides win). */
export function optionsFromParams(p: AlgorithmParams, overrides: Partial<RegistryClientOptions> = {}): RegistryClientOptions {
  return {
    baseUrl: p.endPoint,
    workspace: p.tenant,
    accessKey: p.accessId && p.accessKey ? `${p.accessId}.${p.accessKey}` : undefined,
    ...overrides,
    interceptors: [lineageInterceptor(p), ...(overrides.interceptors ?? [])],
  };
}
