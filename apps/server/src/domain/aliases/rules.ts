// The rules of aliases that need no database: the shape of an alias and of
// a SetAlias request, and who may touch a protected alias.
import { Role } from "@modelreg/proto";
import { InvalidArgumentError, PermissionDeniedError } from "../shared/errors.js";
import { ALIAS, type ModelName, parseModelName } from "../shared/resource-names.js";
import { collect, printable, Violations } from "../shared/validation.js";
import { parseSemver } from "../shared/semver.js";
import type { AliasCaller, SetAliasRequest } from "./types.js";

/** Protected aliases are for admin keys only: only they may mark one protected, move it or delete it. */
export function mayTouchProtected(caller: AliasCaller): boolean {
  return caller.role === Role.ADMIN;
}

function checkAlias(v: Violations, field: string, alias: string): void {
  if (!ALIAS.test(alias)) v.add(field, `${alias === "" ? "is required" : `"${printable(alias)}" is not an alias`}: 1-63 lowercase letters, digits, '-' and '_', starting with a letter`);
}

/** A SetAlias request, checked: the model it names. */
export function checkSet(caller: AliasCaller, req: SetAliasRequest): ModelName {
  const v = new Violations();
  const n = collect(v, () => parseModelName("model", req.model));
  checkAlias(v, "alias", req.alias);
  if (req.version === "") v.add("version", "is required: the version identifier to point at, e.g. 3.2.0");
  else if (parseSemver(req.version).error) v.add("version", `"${printable(req.version)}" is not a version identifier: ${parseSemver(req.version).error}`);
  if (req.expectedVersion !== "" && req.expectedVersion !== "-" && parseSemver(req.expectedVersion).error)
    v.add("expected_version", `"${printable(req.expectedVersion)}" is not a version identifier, or "-" for "must not exist yet"`);
  if (!v.empty || !n) throw new InvalidArgumentError(v.list);
  if (req.protected && !mayTouchProtected(caller)) throw new PermissionDeniedError("only an admin key may mark an alias protected");
  return n;
}

/** A DeleteAlias request, checked: the model it names. */
export function checkDelete(model: string, alias: string): ModelName {
  const v = new Violations();
  const n = collect(v, () => parseModelName("model", model));
  checkAlias(v, "alias", alias);
  if (!v.empty || !n) throw new InvalidArgumentError(v.list);
  return n;
}
