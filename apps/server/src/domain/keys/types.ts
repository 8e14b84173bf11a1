// Access keys as the domain hands them out (never with a secret, except the
// once a key is made), and their mapping from the access_keys row.
import type { AccessKeyRow } from "@modelreg/db";
import type { Role } from "@modelreg/proto";

export interface AccessKey {
  name: string;
  keyId: string;
  user: string;
  role: Role;
  expireTime: Date | null;
  createTime: Date;
  revokeTime: Date | null;
  lastUsedTime: Date | null;
  description: string;
  rotatedFrom: string;
}

export interface NewAccessKey {
  accessKey: AccessKey;
  secret: string;
  token: string;
}

export interface AccessKeyFields {
  user: string;
  role: Role;
  expireTime: Date | null;
  description: string;
}

export interface AccessKeyPage {
  accessKeys: AccessKey[];
  nextPageToken: string;
}

/** What authenticating a key needs of it: who it is for, and what is kept of its secret. */
export interface KeyCredentials {
  /** null for the server-wide admin key. */
  workspace: string | null;
  user: string;
  role: number;
  secretHash: string;
  expireTime: Date | null;
  revokeTime: Date | null;
}

export function toAccessKey(row: AccessKeyRow): AccessKey {
  return {
    name: row.workspace ? `workspaces/${row.workspace}/accessKeys/${row.keyId}` : `accessKeys/${row.keyId}`,
    keyId: row.keyId,
    user: row.user,
    role: row.role as Role,
    expireTime: row.expireTime,
    createTime: row.createTime,
    revokeTime: row.revokeTime,
    lastUsedTime: row.lastUsedTime,
    description: row.description,
    rotatedFrom: row.rotatedFrom,
  };
}
