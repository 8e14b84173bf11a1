// The rules of access keys that need no database: the shape of a key's name
// and user, the roles a key may have, and when a key has expired.
import { Role } from "@modelreg/proto";
import { KEY_ID } from "../ports/key-material.js";
import { FailedPreconditionError, InvalidArgumentError } from "../shared/errors.js";
import { parseWorkspaceName } from "../shared/resource-names.js";
import { checkPageSize, checkText, collect, printable, Violations } from "../shared/validation.js";
import type { AccessKeyFields } from "./types.js";

const USER = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const KEY_NAME = /^workspaces\/([a-z][a-z0-9-]{0,62})\/accessKeys\/([^/]+)$/;

/** The roles a workspace key may have. */
export const KEY_ROLES: readonly Role[] = [Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.WORKER];

/** Whether a key with this expiry time (null: never) has expired at `now` (ms). */
export function isExpired(expireTime: Date | null, now: number): boolean {
  return expireTime !== null && expireTime.getTime() <= now;
}

export function parseKeyName(name: string): { workspace: string; keyId: string } {
  const m = KEY_NAME.exec(name);
  if (!m || !KEY_ID.test(m[2]!))
    throw InvalidArgumentError.field(
      "name",
      `${name === "" ? "is required" : `"${printable(name)}" is not a valid name`}: expected workspaces/{workspace}/accessKeys/{key_id}, e.g. workspaces/default/accessKeys/AKJ3Q4M7V2ZC6N8PXW`,
    );
  return { workspace: m[1]!, keyId: m[2]! };
}

/** A create's arguments, checked at `now` (ms): the workspace the key goes into. */
export function checkCreate(parent: string, f: AccessKeyFields, now: number): { workspace: string } {
  const v = new Violations();
  const ws = collect(v, () => parseWorkspaceName("parent", parent));
  if (!USER.test(f.user))
    v.add("access_key.user", `${f.user === "" ? "is required" : `"${printable(f.user)}" is not valid`}: 1-64 letters, digits, '.', '_', '-' and '@', starting with a letter or digit`);
  if (!KEY_ROLES.includes(f.role)) v.add("access_key.role", "must be ROLE_VIEWER, ROLE_EDITOR, ROLE_ADMIN or ROLE_WORKER");
  if (f.expireTime && isExpired(f.expireTime, now)) v.add("access_key.expire_time", `${f.expireTime.toISOString()} is not in the future`);
  checkText(v, "access_key.description", f.description, 1000);
  if (!v.empty || !ws) throw new InvalidArgumentError(v.list);
  return { workspace: ws.workspace };
}

/** A list's arguments, checked: the workspace and the page size. */
export function checkList(parent: string, pageSize: number): { workspace: string; limit: number } {
  const v = new Violations();
  const ws = collect(v, () => parseWorkspaceName("parent", parent));
  const limit = checkPageSize(v, pageSize);
  if (!v.empty || !ws) throw new InvalidArgumentError(v.list);
  return { workspace: ws.workspace, limit };
}

/** A revoked key is not rotated: its successor would bring it back. */
export function checkRotatable(name: string, revokeTime: Date | null): void {
  if (revokeTime) throw new FailedPreconditionError("KEY_REVOKED", `${name} is revoked; create a new key instead`);
}
