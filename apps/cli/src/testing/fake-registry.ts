// A small in-memory modelreg for the CLI's hermetic tests: ModelService and
// VersionService behind createRouterTransport, so every call goes through
// the real Connect protocol (serialization, error details) without a
// network or database. It follows the contract's rules closely enough for
// the CLI's needs (names, etags, paging, server-assigned versions, error
// codes with ErrorInfo/BadRequest) and no further: the real server is
// tested elsewhere, and run(argv, io, { transport }) accepts its transport
// too.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createRouterTransport, type ServiceImpl, type Transport } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  ModelSchema,
  ModelService,
  VersionSchema,
  VersionService,
  type Model,
  type Version,
} from "@modelreg/sdk";

export interface FakeRegistry {
  transport: Transport;
  /** Every call, in order: method name and request (as received). */
  calls: { method: string; request: unknown }[];
}

/** Clock of the fake: starts at 2026-03-01T12:00:00Z, one second per change. */
const START_MS = Date.UTC(2026, 2, 1, 12, 0, 0);

export function createFakeRegistry(options: { workspaces?: string[] } = {}): FakeRegistry {
  const workspaces = new Set((options.workspaces ?? ["default"]).map((w) => `workspaces/${w}`));
  const models = new Map<string, Model>(); // by lowercased name
  const versions = new Map<string, Version[]>(); // by lowercased model name
  const calls: FakeRegistry["calls"] = [];
  let tick = 0;
  let ids = 0;
  const now = () => timestampFromMs(START_MS + 1000 * tick++);
  const uid = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`;
  const etag = () => `e${++ids}`;

  const log = (method: string, request: unknown) => calls.push({ method, request });
  const needModel = (name: string) => {
    const m = models.get(name.toLowerCase());
    if (!m) throw failure(Code.NotFound, "NOT_FOUND", `model ${name} not found`, { resource: name });
    return m;
  };
  const checkEtag = (resource: { name: string; etag: string }, given: string) => {
    if (given !== "" && given !== resource.etag)
      throw failure(Code.Aborted, "ETAG_MISMATCH", `${resource.name} was changed since etag was read (current etag ${resource.etag}); read it again and retry`, {
        resource: resource.name,
        current_etag: resource.etag,
      });
  };
  const maskPaths = (paths: string[] | undefined) => {
    if (!paths || paths.length === 0) throw invalid("update_mask", "is required: name the fields to change");
    for (const p of paths) if (p !== "description" && p !== "labels" && p !== "*") throw invalid("update_mask", `"${p}" cannot be updated`);
    return new Set(paths.includes("*") ? ["description", "labels"] : paths);
  };

  const modelService: ServiceImpl<typeof ModelService> = {
    createModel(req) {
      log("CreateModel", req);
      if (!workspaces.has(req.parent)) throw failure(Code.NotFound, "NOT_FOUND", `workspace ${req.parent} not found`, { resource: req.parent });
      if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(req.modelId)) throw invalid("model_id", "must be 1-64 letters, digits, - or _, starting with a letter");
      const name = `${req.parent}/models/${req.modelId}`;
      if (models.has(name.toLowerCase())) throw failure(Code.AlreadyExists, "ALREADY_EXISTS", `model ${name} already exists`, { resource: name });
      const t = now();
      const model = create(ModelSchema, {
        name,
        uid: uid(),
        description: req.model?.description ?? "",
        labels: { ...req.model?.labels },
        createTime: t,
        updateTime: t,
        etag: etag(),
      });
      models.set(name.toLowerCase(), model);
      versions.set(name.toLowerCase(), []);
      return { model };
    },
    getModel(req) {
      log("GetModel", req);
      return { model: needModel(req.name) };
    },
    listModels(req) {
      log("ListModels", req);
      if (!workspaces.has(req.parent)) throw failure(Code.NotFound, "NOT_FOUND", `workspace ${req.parent} not found`, { resource: req.parent });
      const all = [...models.values()].filter((m) => m.name.startsWith(`${req.parent}/`)).sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
      return page(all, req.pageSize, req.pageToken, (items, nextPageToken) => ({ models: items, nextPageToken }));
    },
    updateModel(req) {
      log("UpdateModel", req);
      const m = needModel(req.model?.name ?? "");
      const paths = maskPaths(req.updateMask?.paths);
      checkEtag(m, req.model!.etag);
      if (paths.has("description")) m.description = req.model!.description;
      if (paths.has("labels")) m.labels = { ...req.model!.labels };
      m.updateTime = now();
      m.etag = etag();
      return { model: m };
    },
    deleteModel(req) {
      log("DeleteModel", req);
      const m = needModel(req.name);
      checkEtag(m, req.etag);
      if (m.versionCount > 0n && !req.force)
        throw failure(
          Code.FailedPrecondition,
          "MODEL_HAS_VERSIONS",
          `${m.name} still has ${m.versionCount} version(s); delete them first or pass force to delete them with the model`,
          { resource: m.name, version_count: String(m.versionCount) },
        );
      models.delete(m.name.toLowerCase());
      versions.delete(m.name.toLowerCase());
      return {};
    },
  };

  const findVersion = (name: string) => {
    const i = name.lastIndexOf("/versions/");
    const list = i < 0 ? undefined : versions.get(name.slice(0, i).toLowerCase());
    const v = list?.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!v) throw failure(Code.NotFound, "NOT_FOUND", `version ${name} not found`, { resource: name });
    return v;
  };
  const refresh = (m: Model) => {
    const list = versions.get(m.name.toLowerCase())!;
    list.sort((a, b) => compareVersions(b.version, a.version));
    m.versionCount = BigInt(list.length);
    m.latestVersion = list[0]?.version ?? "";
  };

  const versionService: ServiceImpl<typeof VersionService> = {
    createVersion(req) {
      log("CreateVersion", req);
      const m = needModel(req.parent);
      const list = versions.get(m.name.toLowerCase())!;
      let id = req.versionId;
      if (id === "") id = list.length === 0 ? "1.0.0" : nextPatch(list[0]!.version);
      else if (!/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(id)) throw invalid("version_id", "must be a semantic version such as 1.0.0");
      const name = `${m.name}/versions/${id}`;
      if (list.some((v) => v.version === id)) throw failure(Code.AlreadyExists, "ALREADY_EXISTS", `version ${name} already exists`, { resource: name });
      const t = now();
      const version = create(VersionSchema, {
        name,
        uid: uid(),
        version: id,
        description: req.version?.description ?? "",
        labels: { ...req.version?.labels },
        createTime: t,
        updateTime: t,
        etag: etag(),
        model: m.name,
        modelUid: m.uid,
      });
      list.push(version);
      refresh(m);
      return { version };
    },
    getVersion(req) {
      log("GetVersion", req);
      if (req.ref.case === "name") return { version: findVersion(req.ref.value) };
      if (req.ref.case === "uid") {
        const uidValue = req.ref.value;
        const v = [...versions.values()].flat().find((x) => x.uid === uidValue);
        if (!v) throw failure(Code.NotFound, "NOT_FOUND", `version with uid ${uidValue} not found`, { uid: uidValue });
        return { version: v };
      }
      throw invalid("ref", "give name or uid");
    },
    listVersions(req) {
      log("ListVersions", req);
      const m = needModel(req.parent);
      return page(versions.get(m.name.toLowerCase())!, req.pageSize, req.pageToken, (items, nextPageToken) => ({ versions: items, nextPageToken }));
    },
    updateVersion(req) {
      log("UpdateVersion", req);
      const v = findVersion(req.version?.name ?? "");
      const paths = maskPaths(req.updateMask?.paths);
      checkEtag(v, req.version!.etag);
      if (paths.has("description")) v.description = req.version!.description;
      if (paths.has("labels")) v.labels = { ...req.version!.labels };
      v.updateTime = now();
      v.etag = etag();
      return { version: v };
    },
    deleteVersion(req) {
      log("DeleteVersion", req);
      const v = findVersion(req.name);
      checkEtag(v, req.etag);
      const list = versions.get(v.model.toLowerCase())!;
      list.splice(list.indexOf(v), 1);
      refresh(needModel(v.model));
      return {};
    },
  };

  const transport = createRouterTransport((router) => {
    router.service(ModelService, modelService);
    router.service(VersionService, versionService);
  });
  return { transport, calls };
}

/** Offset tokens: good enough for a fake (the real server's are opaque keysets). */
function page<T, R>(all: T[], pageSize: number, pageToken: string, shape: (items: T[], next: string) => R): R {
  if (pageSize < 0) throw invalid("page_size", "must not be negative");
  const size = Math.min(pageSize || 50, 1000);
  const start = pageToken === "" ? 0 : Number(pageToken.replace(/^o/, ""));
  if (!Number.isInteger(start)) throw invalid("page_token", "is not a token of this list");
  const end = start + size;
  return shape(all.slice(start, end), end < all.length ? `o${end}` : "");
}

function nextPatch(version: string): string {
  const [core = "", pre] = version.split(/[+]/)[0]!.split("-", 2);
  const [major = 0, minor = 0, patch = 0] = core.split(".").map(Number);
  return pre ? `${major}.${minor}.${patch}` : `${major}.${minor}.${patch + 1}`;
}

/** Numeric comparison of major.minor.patch, pre-releases before releases. */
function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = "", pre = ""] = v.split("+")[0]!.split("-", 2);
    return { nums: core.split(".").map(Number), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
  if (x.pre === y.pre) return a.localeCompare(b);
  if (x.pre === "") return 1;
  if (y.pre === "") return -1;
  return x.pre.localeCompare(y.pre);
}

function failure(code: Code, reason: string, message: string, metadata: Record<string, string> = {}, violations?: { field: string; description: string }[]) {
  return new ConnectError(message, code, undefined, [
    { desc: ErrorInfoSchema, value: { reason, domain: "modelreg.dev", metadata } },
    ...(violations ? [{ desc: BadRequestSchema, value: { fieldViolations: violations } }] : []),
  ]);
}

function invalid(field: string, description: string) {
  return failure(Code.InvalidArgument, "INVALID_ARGUMENT", `${field}: ${description}`, {}, [{ field, description }]);
}
