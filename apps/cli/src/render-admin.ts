// Table views of workspaces, access keys, audit events and server info (the
// JSON views are the messages' proto JSON, see output.ts).
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Role, type AccessKey, type AuditEvent, type GetServerInfoResponse, type Workspace } from "@modelreg/sdk";
import { keyValues, lastSegment, oneLine, table, time, type RenderOptions } from "./output.js";

const DESCRIPTION_WIDTH = 40;

/** `viewer`, `editor`, `admin`, `worker`; `-` when unset. */
export function roleName(role: Role): string {
  switch (role) {
    case Role.VIEWER:
      return "viewer";
    case Role.EDITOR:
      return "editor";
    case Role.ADMIN:
      return "admin";
    case Role.SERVER_ADMIN:
      return "server admin";
    case Role.WORKER:
      return "worker";
    default:
      return "-";
  }
}

// --- workspaces -------------------------------------------------------------

/** NAME, DESCRIPTION, CREATED, UPDATED. */
export function renderWorkspacesTable(workspaces: Workspace[], options: RenderOptions = {}): string {
  return table(
    ["NAME", "DESCRIPTION", "CREATED", "UPDATED"],
    workspaces.map((w) => [lastSegment(w.name), oneLine(w.description, DESCRIPTION_WIDTH), time(w.createTime), time(w.updateTime)]),
    options,
  );
}

export function renderWorkspace(w: Workspace): string {
  return keyValues([
    ["Name", w.name],
    ["Uid", w.uid],
    ["Description", w.description],
    ["Created", time(w.createTime)],
    ["Updated", time(w.updateTime)],
  ]);
}

// --- access keys ------------------------------------------------------------

/** `active`, `revoked` or `expired`, as of `now`. */
export function keyStatus(k: AccessKey, now: Date): string {
  if (k.revokeTime) return "revoked";
  if (k.expireTime && timestampDate(k.expireTime).getTime() <= now.getTime()) return "expired";
  return "active";
}

/** KEY ID, USER, ROLE, STATUS, EXPIRES, LAST USED, CREATED, DESCRIPTION. */
export function renderAccessKeysTable(keys: AccessKey[], options: RenderOptions & { now: Date }): string {
  return table(
    ["KEY ID", "USER", "ROLE", "STATUS", "EXPIRES", "LAST USED", "CREATED", "DESCRIPTION"],
    keys.map((k) => [
      k.keyId,
      k.user,
      roleName(k.role),
      keyStatus(k, options.now),
      orText(k.expireTime, "never"),
      orText(k.lastUsedTime, "never"),
      time(k.createTime),
      oneLine(k.description, DESCRIPTION_WIDTH),
    ]),
    options,
  );
}

export function renderAccessKey(k: AccessKey, now: Date): string {
  return keyValues([
    ["Name", k.name],
    ["Key id", k.keyId],
    ["User", k.user],
    ["Role", roleName(k.role)],
    ["Status", keyStatus(k, now)],
    ["Expires", orText(k.expireTime, "never")],
    ["Created", time(k.createTime)],
    ["Last used", orText(k.lastUsedTime, "never")],
    ["Revoked", k.revokeTime ? time(k.revokeTime) : ""],
    ["Rotated from", k.rotatedFrom],
    ["Description", k.description],
  ]);
}

/**
 * A key just created or rotated, with its token: the only time the token is
 * ever shown (the server keeps only a hash of the secret).
 */
export function renderNewKey(k: AccessKey, token: string, now: Date): string {
  return `${renderAccessKey(k, now)}\n\nToken:  ${token}`;
}

/** The warning that goes with renderNewKey, on stderr. */
export function newKeyWarning(k: AccessKey): string {
  return [
    `warning: this is the only time the token of ${k.keyId} is shown; the server keeps only a hash of it.`,
    `Store it now (e.g. in a secret manager). If it is lost, rotate the key: modelreg keys rotate ${k.keyId}`,
    "Use it with: modelreg login --access-key-stdin (token on stdin), or MODELREG_ACCESS_KEY=<token>",
  ].join("\n");
}

// --- audit log --------------------------------------------------------------

/** `modelreg.v1.ModelService/CreateModel` -> `ModelService/CreateModel`. */
export function shortMethod(method: string): string {
  return method.startsWith("modelreg.v1.") ? method.slice("modelreg.v1.".length) : method;
}

/** TIME, USER, KEY, METHOD, RESOURCE, CODE. */
export function renderAuditTable(events: AuditEvent[], options: RenderOptions = {}): string {
  return table(
    ["TIME", "USER", "KEY", "METHOD", "RESOURCE", "CODE"],
    events.map((e) => [time(e.time), e.user || "-", e.accessKeyId || "-", shortMethod(e.method) || "-", e.resource || "-", e.code || "-"]),
    options,
  );
}

// --- who am I ---------------------------------------------------------------

/** The caller and the server, with where the key came from (`credential`) and the server URL. */
export function renderServerInfo(info: GetServerInfoResponse, server: string, credential: string): string {
  const auth = info.authEnabled;
  const serverWide = auth && info.workspace === "" && info.role === Role.ADMIN;
  return keyValues([
    ["User", auth ? info.user : "- (the server runs without authentication)"],
    ["Access key", info.accessKeyId],
    ["Role", serverWide ? "admin (server-wide)" : roleName(info.role)],
    ["Workspace", serverWide ? "all (server-wide admin key)" : info.workspace],
    ["Key expires", auth ? orText(info.keyExpireTime, "never") : ""],
    ["Server", server],
    ["Server version", info.serverVersion],
    ["Auth", auth ? "enabled" : "disabled (AUTH=off)"],
    ["Database", info.database],
    ["Credential", credential],
  ]);
}

function orText(ts: Timestamp | undefined, text: string): string {
  return ts ? time(ts) : text;
}
