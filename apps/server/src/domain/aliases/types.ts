// An alias as models and versions show it: a name of the model pointing at
// one of its versions.
import type { Role } from "@modelreg/proto";

export interface Alias {
  alias: string;
  /** The version identifier it points at. */
  version: string;
  protected: boolean;
  updateTime: Date;
}

export interface SetAliasRequest {
  model: string;
  alias: string;
  version: string;
  protected: boolean;
  /** "" = any; "-" = only if the alias does not exist yet; else the version it must point at now. */
  expectedVersion: string;
}

/** Who calls: only their role matters here. */
export interface AliasCaller {
  role: Role;
}
