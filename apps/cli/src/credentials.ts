// Which access key a command sends, as `Authorization: Bearer <key_id>.<secret>`.
// The first of these that is set wins:
//   1. --access-key <token>
//   2. MODELREG_ACCESS_KEY
//   3. the active profile (--profile / MODELREG_PROFILE / "default"), if it
//      is for the server in use (see global-options.ts)
//   4. for a server on this machine only (127.0.0.1, localhost, ::1):
//      $DATA_DIR/admin.key (DATA_DIR default ./data), the server-wide admin
//      key the server writes on its first start, so `npm start` and then the
//      CLI works without any setup.
// A secret is never printed: messages name where a key came from and its key
// id (the public half), never the token.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { isLoopback } from "@modelreg/sdk";
import { UsageError } from "./exit-codes.js";
import type { Io } from "./io.js";
import type { Profile } from "./profiles.js";

export const ADMIN_KEY_FILE = "admin.key";
export const DEFAULT_DATA_DIR = "./data";

export type CredentialSource =
  | { kind: "flag" }
  | { kind: "env" }
  | { kind: "profile"; profile: string; path: string }
  | { kind: "admin-key-file"; path: string }
  /** The key given to `modelreg login`. */
  | { kind: "login" }
  | { kind: "none" };

export interface Credential {
  /** `<key_id>.<secret>`; undefined = no key is sent. */
  token: string | undefined;
  source: CredentialSource;
  /** Where a local server's admin key is looked for (loopback servers only), for hints. */
  adminKeyPath?: string;
}

/** A profile that applies to this command: its name, file and contents. */
export interface ActiveProfile {
  name: string;
  path: string;
  profile: Profile;
}

export interface CredentialInput {
  /** --access-key, if given ("" = send no key). */
  flag: string | undefined;
  env: Io["env"];
  /** The server in use. */
  server: string;
  /** The active profile, only if it is for `server`. */
  profile: ActiveProfile | undefined;
  cwd: string | undefined;
}

export function resolveCredential(input: CredentialInput): Credential {
  const loopback = isLoopback(input.server);
  const adminKeyPath = loopback ? adminKeyFile(input.env, input.cwd) : undefined;
  const withPath = adminKeyPath ? { adminKeyPath } : {};
  if (input.flag !== undefined) {
    const token = input.flag.trim();
    return { token: token === "" ? undefined : checkToken(token, "--access-key"), source: { kind: "flag" }, ...withPath };
  }
  const env = input.env.MODELREG_ACCESS_KEY?.trim();
  if (env) return { token: checkToken(env, "MODELREG_ACCESS_KEY"), source: { kind: "env" }, ...withPath };
  if (input.profile) {
    const { name, path, profile } = input.profile;
    return { token: checkToken(profile.accessKey.trim(), `profile "${name}" in ${path}`), source: { kind: "profile", profile: name, path }, ...withPath };
  }
  if (adminKeyPath) {
    const token = readAdminKey(adminKeyPath);
    if (token) return { token: checkToken(token, adminKeyPath), source: { kind: "admin-key-file", path: adminKeyPath }, ...withPath };
  }
  return { token: undefined, source: { kind: "none" }, ...withPath };
}

/** $DATA_DIR/admin.key (DATA_DIR default ./data, relative to the working directory); undefined when a relative one cannot be resolved. */
export function adminKeyFile(env: Io["env"], cwd: string | undefined): string | undefined {
  const dataDir = env.DATA_DIR?.trim() || DEFAULT_DATA_DIR;
  if (isAbsolute(dataDir)) return resolve(dataDir, ADMIN_KEY_FILE);
  return cwd === undefined ? undefined : resolve(cwd, dataDir, ADMIN_KEY_FILE);
}

/** The token in an admin.key file (its first line); undefined when the file is missing or unreadable. */
export function readAdminKey(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").split("\n", 1)[0]!.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether two server URLs name the same server (scheme, host, port and path; case and trailing slashes aside). */
export function sameServer(a: string, b: string): boolean {
  const norm = (s: string) => {
    try {
      const u = new URL(s);
      return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`;
    } catch {
      return s.replace(/\/+$/, "");
    }
  };
  return norm(a) === norm(b);
}

const TOKEN = /^[^\s.]+\.[\x21-\x7e]+$/;

/**
 * Checks that a token looks like `<key_id>.<secret>` (and so is safe in a
 * header). The error names where it came from, never the token itself.
 */
export function checkToken(token: string, from: string): string {
  if (!TOKEN.test(token)) throw new UsageError(`the access key from ${from} is not of the form <key_id>.<secret>`);
  return token;
}

/** The public half of a token: `AKJ3Q4M7V2ZC6N8P.secret` -> `AKJ3Q4M7V2ZC6N8P`. */
export function keyIdOf(token: string): string {
  return token.slice(0, token.indexOf("."));
}

/** Where the key came from, for people: `--access-key`, `profile "default" (path)`, ... */
export function describeSource(source: CredentialSource): string {
  switch (source.kind) {
    case "flag":
      return "--access-key";
    case "env":
      return "MODELREG_ACCESS_KEY";
    case "profile":
      return `profile "${source.profile}" (${source.path})`;
    case "admin-key-file":
      return source.path;
    case "login":
      return "the key given to login";
    case "none":
      return "no access key";
  }
}

/** `access key AK... from <source>`, or `no access key`. */
export function describeCredential(credential: Credential): string {
  if (!credential.token) return credential.source.kind === "flag" ? "no access key (--access-key is empty)" : "no access key";
  return `access key ${keyIdOf(credential.token)} from ${describeSource(credential.source)}`;
}
