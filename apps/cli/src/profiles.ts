// Saved logins: `modelreg login` stores { server, accessKey, workspace } under
// a profile name in $XDG_CONFIG_HOME/modelreg/profiles.json (default
// ~/.config/modelreg; MODELREG_CONFIG_DIR overrides the directory). The file
// holds secrets, so it is created with mode 0600 in a 0700 directory, and
// every change is written to a temporary file that is then renamed over it:
// a reader never sees half a file, and a crash mid-write loses nothing.
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { UsageError } from "./exit-codes.js";
import type { Io } from "./io.js";

export const DEFAULT_PROFILE = "default";
export const PROFILES_FILE = "profiles.json";

export interface Profile {
  /** Server URL, as given to login (no trailing slash). */
  server: string;
  /** `<key_id>.<secret>`. */
  accessKey: string;
  /** Workspace short names resolve in; absent = the default workspace. */
  workspace?: string;
}

export type Profiles = Record<string, Profile>;

/** The file's shape on disk. */
interface ProfilesFile {
  profiles: Profiles;
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a profile name (it becomes a JSON key and is shown in messages). */
export function checkProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) throw new UsageError(`profile name "${name}" is not valid: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  return name;
}

/**
 * The profiles file: MODELREG_CONFIG_DIR/profiles.json, else
 * $XDG_CONFIG_HOME/modelreg/profiles.json, else ~/.config/modelreg/profiles.json;
 * undefined when none of them is known (no HOME).
 */
export function profilesPath(io: Pick<Io, "env" | "homedir">): string | undefined {
  const env = io.env;
  const dir = env.MODELREG_CONFIG_DIR?.trim();
  if (dir) return join(dir, PROFILES_FILE);
  const xdg = env.XDG_CONFIG_HOME?.trim();
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  if (xdg && isAbsolute(xdg)) return join(xdg, "modelreg", PROFILES_FILE);
  const home = env.HOME?.trim() || io.homedir;
  return home ? join(home, ".config", "modelreg", PROFILES_FILE) : undefined;
}

/** The profiles in `path`; none when the file does not exist. */
export function readProfiles(path: string): Profiles {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}); fix it, or delete it and log in again`);
  }
  const profiles = (data as Partial<ProfilesFile> | null)?.profiles;
  if (typeof profiles !== "object" || profiles === null || Array.isArray(profiles)) {
    throw new Error(`${path} has no "profiles" object; fix it, or delete it and log in again`);
  }
  const out: Profiles = {};
  for (const [name, p] of Object.entries(profiles as Record<string, Partial<Profile> | null>)) {
    if (typeof p?.server !== "string" || typeof p.accessKey !== "string" || (p.workspace !== undefined && typeof p.workspace !== "string")) {
      throw new Error(`${path}: profile "${name}" needs "server" and "accessKey" strings; fix it, or log in again with --profile ${name}`);
    }
    out[name] = { server: p.server, accessKey: p.accessKey, ...(p.workspace ? { workspace: p.workspace } : {}) };
  }
  return out;
}

/**
 * Replaces the file with `profiles`, atomically: a new file (mode 0600) is
 * written and synced next to it, then renamed over it. The directory is
 * created with mode 0700 if missing.
 */
export function writeProfiles(path: string, profiles: Profiles): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const body = `${JSON.stringify({ profiles } satisfies ProfilesFile, null, 2)}\n`;
  const tmp = join(dir, `.${PROFILES_FILE}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    // "wx": never follow or reuse an existing file; 0600 from the start, so the secret is never readable by others.
    fd = openSync(tmp, "wx", 0o600);
    chmodSync(tmp, 0o600); // in case the umask took bits away we do want (it cannot add any)
    writeSync(fd, body);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new Error(`cannot write ${path}: ${(e as Error).message}`);
  }
  syncDir(dir);
}

/** Makes the rename durable (best effort: not every platform can fsync a directory). */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // ignore
  }
}

/** Adds or replaces one profile. */
export function saveProfile(path: string, name: string, profile: Profile): void {
  const profiles = readProfiles(path);
  profiles[checkProfileName(name)] = profile;
  writeProfiles(path, profiles);
}

/** Removes one profile; false when there was none of that name. */
export function removeProfile(path: string, name: string): boolean {
  const profiles = readProfiles(path);
  if (!Object.hasOwn(profiles, name)) return false;
  delete profiles[name];
  writeProfiles(path, profiles);
  return true;
}
