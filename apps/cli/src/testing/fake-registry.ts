// A small in-memory modelreg for the CLI's hermetic tests: ModelService,
// VersionService and WorkspaceService behind createRouterTransport, so every
// call goes through the real Connect protocol (serialization, headers, error
// details) without a network or database. It follows the contract's rules
// closely enough for the CLI's needs (names, etags, paging, server-assigned
// versions, error codes with ErrorInfo/BadRequest; with `auth`, access keys
// checked from the Authorization header, the role each RPC states in the
// contract, workspace scoping, and an audit log) and no further: the real
// server is tested elsewhere, and run(argv, io, { transport }) accepts its
// transport too.
import { create, getOption, hasOption } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  createContextKey,
  createRouterTransport,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
  type Transport,
} from "@connectrpc/connect";
import {
  AccessKeySchema,
  AuditEventSchema,
  BadRequestSchema,
  codeName,
  ErrorInfoSchema,
  ModelSchema,
  ModelService,
  required_role,
  Role,
  VersionSchema,
  VersionService,
  WorkspaceSchema,
  WorkspaceService,
  type AccessKey,
  type AuditEvent,
  type Model,
  type Version,
  type Workspace,
} from "@modelreg/sdk";

export interface FakeRegistry {
  transport: Transport;
  /** Every call, in order: method name, request (as received) and its Authorization header, if any. */
  calls: { method: string; request: unknown; authorization?: string }[];
  /** The audit log, oldest first (mutating calls, refusals included). */
  audit: AuditEvent[];
  /** With `auth`: the token of the server-wide admin key (no workspace). */
  adminToken: string;
  /** Adds an access key (bound to `workspace`, default "default"; null = server-wide) and returns its token. */
  addKey(key: { user: string; role: Role; workspace?: string | null; expireTime?: Date; revoked?: boolean }): string;
}

export interface FakeRegistryOptions {
  /** Workspace ids that exist (default ["default"]). */
  workspaces?: string[];
  /** Check access keys and roles (default false: every call acts as an anonymous server-wide admin, like AUTH=off). */
  auth?: boolean;
}

/** Clock of the fake: starts at 2026-03-01T12:00:00Z, one second per change. */
export const FAKE_START_MS = Date.UTC(2026, 2, 1, 12, 0, 0);
const START_MS = FAKE_START_MS;

/** Who is calling (the key that authenticated the call). */
interface Principal {
  user: string;
  keyId: string;
  /** `workspaces/{w}`, or null for a server-wide key (and with auth off). */
  workspace: string | null;
  role: Role;
  expireTime?: Timestamp;
}

const ANONYMOUS: Principal = { user: "", keyId: "", workspace: null, role: Role.ADMIN };
const principalKey = createContextKey<Principal>(ANONYMOUS, { description: "caller" });

interface StoredKey {
  key: AccessKey;
  secret: string;
  /** `workspaces/{w}`, or null for a server-wide key. */
  workspace: string | null;
}

export function createFakeRegistry(options: FakeRegistryOptions = {}): FakeRegistry {
  const auth = options.auth ?? false;
  const models = new Map<string, Model>(); // by lowercased name
  const versions = new Map<string, Version[]>(); // by lowercased model name
  const calls: FakeRegistry["calls"] = [];
  const audit: AuditEvent[] = [];
  const keys = new Map<string, StoredKey>(); // by key id
  let tick = 0;
  let ids = 0;
  const now = () => timestampFromMs(START_MS + 1000 * tick++);
  const uid = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`;
  const etag = () => `e${++ids}`;
  const workspaces = new Map<string, Workspace>(); // by name
  for (const w of options.workspaces ?? ["default"]) {
    const t = now();
    workspaces.set(`workspaces/${w}`, create(WorkspaceSchema, { name: `workspaces/${w}`, uid: uid(), createTime: t, updateTime: t }));
  }

  // --- keys ---------------------------------------------------------------
  let keyCount = 0;
  const mintKey = (workspace: string | null, fields: { user: string; role: Role; expireTime?: Timestamp; description?: string; rotatedFrom?: string }) => {
    const n = ++keyCount;
    const keyId = `AK${base32(n).padStart(16, "A")}`;
    const secret = `S${String(n).padStart(3, "0")}${"abcdefghij".repeat(4)}`.slice(0, 43);
    const key = create(AccessKeySchema, {
      name: `${workspace ?? "workspaces/-"}/accessKeys/${keyId}`,
      keyId,
      user: fields.user,
      role: fields.role,
      createTime: now(),
      description: fields.description ?? "",
      rotatedFrom: fields.rotatedFrom ?? "",
      ...(fields.expireTime ? { expireTime: fields.expireTime } : {}),
    });
    keys.set(keyId, { key, secret, workspace });
    return { key, secret, token: `${keyId}.${secret}` };
  };
  const adminToken = mintKey(null, { user: "admin", role: Role.ADMIN, description: "server-wide admin key" }).token;
  const addKey: FakeRegistry["addKey"] = (k) => {
    const ws = k.workspace === null ? null : `workspaces/${k.workspace ?? "default"}`;
    const minted = mintKey(ws, { user: k.user, role: k.role, ...(k.expireTime ? { expireTime: timestampFromMs(k.expireTime.getTime()) } : {}) });
    if (k.revoked) minted.key.revokeTime = now();
    return minted.token;
  };

  const authenticate = (header: string | null): Principal => {
    if (!auth) return ANONYMOUS;
    const token = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];
    if (!token) throw failure(Code.Unauthenticated, "UNAUTHENTICATED", "this call needs an access key: send 'Authorization: Bearer <key_id>.<secret>'");
    const dot = token.indexOf(".");
    const keyId = token.slice(0, Math.max(dot, 0));
    const stored = keys.get(keyId);
    if (dot <= 0 || !stored) throw failure(Code.Unauthenticated, "UNAUTHENTICATED", `access key ${keyId || "(malformed)"} is not known to this server`);
    if (stored.secret !== token.slice(dot + 1)) throw failure(Code.Unauthenticated, "UNAUTHENTICATED", `the secret does not match access key ${keyId}`);
    if (stored.key.revokeTime) throw failure(Code.Unauthenticated, "UNAUTHENTICATED", `access key ${keyId} was revoked`);
    if (stored.key.expireTime && timestampDate(stored.key.expireTime).getTime() <= START_MS + 1000 * tick)
      throw failure(Code.Unauthenticated, "UNAUTHENTICATED", `access key ${keyId} expired`);
    return { user: stored.key.user, keyId, workspace: stored.workspace, role: stored.key.role, ...(stored.key.expireTime ? { expireTime: stored.key.expireTime } : {}) };
  };
  const hasRole = (p: Principal, required: Role) => (required === Role.SERVER_ADMIN ? p.workspace === null && p.role === Role.ADMIN : p.role >= required);
  /** A key bound to workspace A sees nothing of workspace B: NotFound, as if it did not exist. */
  const inScope = (p: Principal, name: string) => p.workspace === null || name === p.workspace || name.startsWith(`${p.workspace}/`);

  const interceptor: Interceptor = (next) => async (req) => {
    const method = req.method.name;
    const header = req.header.get("authorization");
    const request: unknown = "message" in req ? req.message : undefined;
    calls.push({ method, request, ...(header ? { authorization: header } : {}) });
    const fullMethod = `${req.service.typeName}/${method}`;
    const mutating = !/^(Get|List)/.test(method);
    const resource = resourceOf(request);
    let principal: Principal | undefined;
    try {
      principal = authenticate(header);
      const required = hasOption(req.method, required_role) ? getOption(req.method, required_role) : Role.UNSPECIFIED;
      if (required === Role.UNSPECIFIED) throw failure(Code.PermissionDenied, "PERMISSION_DENIED", `${fullMethod} states no required role`);
      if (!hasRole(principal, required)) {
        const needed = required === Role.SERVER_ADMIN ? "the server-wide admin key" : `the ${Role[required]!.toLowerCase()} role or higher`;
        throw failure(Code.PermissionDenied, "PERMISSION_DENIED", `${fullMethod} needs ${needed}`, { required_role: `ROLE_${Role[required]}` });
      }
      req.contextValues.set(principalKey, principal);
      const res = await next(req);
      if (mutating) record(principal, fullMethod, resource, "ok");
      return res;
    } catch (err) {
      if (mutating) record(principal, fullMethod, resource, codeName(ConnectError.from(err).code));
      throw err;
    }
  };
  const record = (p: Principal | undefined, method: string, resource: string, code: string) => {
    const workspace = /^workspaces\/([^/]+)/.exec(resource)?.[1] ?? "";
    audit.push(
      create(AuditEventSchema, {
        name: `workspaces/${workspace || "-"}/auditEvents/${audit.length + 1}`,
        time: now(),
        user: p?.user ?? "",
        accessKeyId: p?.keyId ?? "",
        workspace,
        method,
        resource,
        code,
        requestId: `req-${audit.length + 1}`,
      }),
    );
  };
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
    createModel(req, ctx) {
      if (!workspaces.has(req.parent) || !inScope(ctx.values.get(principalKey), req.parent)) throw failure(Code.NotFound, "NOT_FOUND", `workspace ${req.parent} not found`, { resource: req.parent });
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
      return { model: needModel(req.name) };
    },
    listModels(req, ctx) {
      if (!workspaces.has(req.parent) || !inScope(ctx.values.get(principalKey), req.parent)) throw failure(Code.NotFound, "NOT_FOUND", `workspace ${req.parent} not found`, { resource: req.parent });
      const all = [...models.values()].filter((m) => m.name.startsWith(`${req.parent}/`)).sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
      return page(all, req.pageSize, req.pageToken, (items, nextPageToken) => ({ models: items, nextPageToken }));
    },
    updateModel(req) {
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
      const m = needModel(req.parent);
      return page(versions.get(m.name.toLowerCase())!, req.pageSize, req.pageToken, (items, nextPageToken) => ({ versions: items, nextPageToken }));
    },
    updateVersion(req) {
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
      const v = findVersion(req.name);
      checkEtag(v, req.etag);
      const list = versions.get(v.model.toLowerCase())!;
      list.splice(list.indexOf(v), 1);
      refresh(needModel(v.model));
      return {};
    },
  };

  const needWorkspace = (ctx: HandlerContext, name: string) => {
    const w = workspaces.get(name);
    if (!w || !inScope(ctx.values.get(principalKey), name)) throw failure(Code.NotFound, "NOT_FOUND", `workspace ${name} not found`, { resource: name });
    return w;
  };
  const needKey = (ctx: HandlerContext, name: string) => {
    const keyId = /^workspaces\/[^/]+\/accessKeys\/([^/]+)$/.exec(name)?.[1];
    const stored = keyId ? keys.get(keyId) : undefined;
    if (!stored || stored.key.name !== name || !inScope(ctx.values.get(principalKey), name))
      throw failure(Code.NotFound, "NOT_FOUND", `access key ${name} not found`, { resource: name });
    return stored;
  };

  const workspaceService: ServiceImpl<typeof WorkspaceService> = {
    createWorkspace(req) {
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(req.workspaceId)) throw invalid("workspace_id", "must be 1-63 lowercase letters, digits or -, starting with a letter");
      const name = `workspaces/${req.workspaceId}`;
      if (workspaces.has(name)) throw failure(Code.AlreadyExists, "ALREADY_EXISTS", `workspace ${name} already exists`, { resource: name });
      const t = now();
      const workspace = create(WorkspaceSchema, { name, uid: uid(), description: req.workspace?.description ?? "", createTime: t, updateTime: t });
      workspaces.set(name, workspace);
      return { workspace };
    },
    getWorkspace(req, ctx) {
      return { workspace: needWorkspace(ctx, req.name) };
    },
    listWorkspaces(req, ctx) {
      const p = ctx.values.get(principalKey);
      const all = [...workspaces.values()].filter((w) => inScope(p, w.name)).sort((a, b) => a.name.localeCompare(b.name));
      return page(all, req.pageSize, req.pageToken, (items, nextPageToken) => ({ workspaces: items, nextPageToken }));
    },
    updateWorkspace(req, ctx) {
      const w = needWorkspace(ctx, req.workspace?.name ?? "");
      const paths = req.updateMask?.paths ?? [];
      if (paths.length === 0 || paths.some((p) => p !== "description" && p !== "*")) throw invalid("update_mask", "only description can be updated");
      w.description = req.workspace!.description;
      w.updateTime = now();
      return { workspace: w };
    },
    deleteWorkspace(req, ctx) {
      const w = needWorkspace(ctx, req.name);
      if (w.name === "workspaces/default") throw failure(Code.FailedPrecondition, "DEFAULT_WORKSPACE", "the default workspace cannot be deleted", { resource: w.name });
      if ([...models.values()].some((m) => m.name.startsWith(`${w.name}/`)))
        throw failure(Code.FailedPrecondition, "WORKSPACE_NOT_EMPTY", `${w.name} still has models`, { resource: w.name });
      workspaces.delete(w.name);
      for (const [id, k] of keys) if (k.workspace === w.name) keys.delete(id);
      return {};
    },
    createAccessKey(req, ctx) {
      needWorkspace(ctx, req.parent);
      const k = req.accessKey;
      if (!k || !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(k.user)) throw invalid("access_key.user", "must be 1-64 letters, digits, ., _, - or @");
      if (k.role < Role.VIEWER || k.role > Role.ADMIN) throw invalid("access_key.role", "must be VIEWER, EDITOR or ADMIN");
      const minted = mintKey(req.parent, { user: k.user, role: k.role, description: k.description, ...(k.expireTime ? { expireTime: k.expireTime } : {}) });
      return { accessKey: minted.key, secret: minted.secret, token: minted.token };
    },
    listAccessKeys(req, ctx) {
      needWorkspace(ctx, req.parent);
      const all = [...keys.values()]
        .filter((k) => k.workspace === req.parent && (req.showRevoked || !k.key.revokeTime))
        .map((k) => k.key)
        .reverse(); // newest first
      return page(all, req.pageSize, req.pageToken, (items, nextPageToken) => ({ accessKeys: items, nextPageToken }));
    },
    revokeAccessKey(req, ctx) {
      const stored = needKey(ctx, req.name);
      if (stored.key.revokeTime) throw failure(Code.FailedPrecondition, "KEY_REVOKED", `access key ${req.name} is already revoked`, { resource: req.name });
      stored.key.revokeTime = now();
      return { accessKey: stored.key };
    },
    rotateAccessKey(req, ctx) {
      const old = needKey(ctx, req.name);
      if (old.key.revokeTime) throw failure(Code.FailedPrecondition, "KEY_REVOKED", `access key ${req.name} is revoked`, { resource: req.name });
      const minted = mintKey(old.workspace, {
        user: old.key.user,
        role: old.key.role,
        description: old.key.description,
        rotatedFrom: old.key.keyId,
        ...(old.key.expireTime ? { expireTime: old.key.expireTime } : {}),
      });
      old.key.revokeTime = now();
      return { accessKey: minted.key, secret: minted.secret, token: minted.token };
    },
    listAuditEvents(req, ctx) {
      const p = ctx.values.get(principalKey);
      if (req.parent === "workspaces/-") {
        if (p.workspace !== null) throw failure(Code.PermissionDenied, "PERMISSION_DENIED", "workspaces/- needs the server-wide admin key");
      } else needWorkspace(ctx, req.parent);
      const match = parseFilter(req.filter);
      const all = audit.filter((e) => (req.parent === "workspaces/-" || `workspaces/${e.workspace}` === req.parent) && match(e)).reverse(); // newest first
      return page(all, req.pageSize, req.pageToken, (items, nextPageToken) => ({ auditEvents: items, nextPageToken }));
    },
    getServerInfo(_req, ctx) {
      const p = ctx.values.get(principalKey);
      return {
        serverVersion: "0.0.0-fake",
        authEnabled: auth,
        database: "fake",
        user: p.user,
        accessKeyId: p.keyId,
        workspace: p.workspace ?? "",
        role: auth ? p.role : Role.ADMIN,
        ...(p.expireTime ? { keyExpireTime: p.expireTime } : {}),
      };
    },
  };

  const transport = createRouterTransport(
    (router) => {
      router.service(ModelService, modelService);
      router.service(VersionService, versionService);
      router.service(WorkspaceService, workspaceService);
    },
    { router: { interceptors: [interceptor] } },
  );
  return { transport, calls, audit, adminToken, addKey };
}

/** The resource a request addresses: its name, parent, or the name of the resource it carries. */
function resourceOf(request: unknown): string {
  const r = (request ?? {}) as Record<string, unknown>;
  for (const field of ["name", "parent"]) if (typeof r[field] === "string" && r[field] !== "") return r[field] as string;
  for (const field of ["model", "version", "workspace"]) {
    const name = (r[field] as { name?: unknown } | undefined)?.name;
    if (typeof name === "string" && name !== "") return name;
  }
  if (typeof r.workspaceId === "string") return `workspaces/${r.workspaceId}`;
  return "";
}

/** A tiny AIP-160 subset: `field = "value"` and `field != "value"` joined by AND. */
function parseFilter(filter: string): (e: AuditEvent) => boolean {
  if (filter.trim() === "") return () => true;
  const fields: Record<string, (e: AuditEvent) => string> = {
    user: (e) => e.user,
    access_key_id: (e) => e.accessKeyId,
    method: (e) => e.method,
    resource: (e) => e.resource,
    code: (e) => e.code,
    request_id: (e) => e.requestId,
  };
  const tests = filter.split(/\s+AND\s+/).map((term) => {
    const m = /^\s*([a-z_]+)\s*(=|!=)\s*"([^"]*)"\s*$/.exec(term);
    const get = m ? fields[m[1]!] : undefined;
    if (!m || !get) throw invalid("filter", `cannot parse ${JSON.stringify(term.trim())}`);
    return (e: AuditEvent) => (get(e) === m[3]) === (m[2] === "=");
  });
  return (e) => tests.every((t) => t(e));
}

function base32(n: number): string {
  const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  do {
    out = digits[n % 32] + out;
    n = Math.floor(n / 32);
  } while (n > 0);
  return out;
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
