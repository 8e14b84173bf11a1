import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { profilesPath, readProfiles, removeProfile, saveProfile, writeProfiles } from "./profiles.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "modelreg-prof-"));
});
afterEach(() => {
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

/** An unprivileged uid and gid (nobody/nogroup) for what root must not do. */
const NOBODY = 65534;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const PROFILES_MODULE = pathToFileURL(join(import.meta.dirname, "profiles.ts")).href;
/** Child: writeProfiles(argv[2], {}) with the real module; prints its uid and what it threw. */
const WRITE_EMPTY = `
const { writeProfiles } = await import(process.argv[1]);
let error;
try { writeProfiles(process.argv[2], {}); } catch (e) { error = e.message; }
console.log(JSON.stringify({ uid: process.getuid(), error }));
`;

const mode = (path: string) => statSync(path).mode & 0o777;
const alice = { server: "http://localhost:8080", accessKey: "AKALICE.secret-alice-000000000", workspace: "team-a" };

describe("profilesPath", () => {
  it("prefers MODELREG_CONFIG_DIR, then XDG_CONFIG_HOME, then ~/.config", () => {
    expect(profilesPath({ env: { MODELREG_CONFIG_DIR: "/c", XDG_CONFIG_HOME: "/x", HOME: "/h" } })).toBe("/c/profiles.json");
    expect(profilesPath({ env: { XDG_CONFIG_HOME: "/x", HOME: "/h" } })).toBe("/x/modelreg/profiles.json");
    expect(profilesPath({ env: { XDG_CONFIG_HOME: "relative", HOME: "/h" } })).toBe("/h/.config/modelreg/profiles.json");
    expect(profilesPath({ env: {}, homedir: "/home/u" })).toBe("/home/u/.config/modelreg/profiles.json");
    expect(profilesPath({ env: {} })).toBeUndefined();
  });
});

describe("the profiles file", () => {
  it("is created with mode 0600 in a new 0700 directory", () => {
    const path = join(dir, "a", "modelreg", "profiles.json");
    saveProfile(path, "default", alice);
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dir, "a", "modelreg"))).toBe(0o700);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ profiles: { default: alice } });
    expect(readProfiles(path)).toEqual({ default: alice });
  });

  it("is replaced atomically: a new file renamed over the old one, no temp files left", () => {
    const path = join(dir, "profiles.json");
    saveProfile(path, "default", alice);
    // A reader holding the old file keeps a complete old version; the path gets a new inode.
    const before = statSync(path).ino;
    writeFileSync(join(dir, "keep"), "");
    saveProfile(path, "prod", { server: "https://r.example.com", accessKey: "AKPROD.secret-prod-0000000000" });
    expect(statSync(path).ino).not.toBe(before);
    expect(Object.keys(readProfiles(path))).toEqual(["default", "prod"]);
    expect(readdirSync(dir).sort()).toEqual(["keep", "profiles.json"]);
  });

  it("tightens a file that was readable by others (the new file is 0600)", () => {
    const path = join(dir, "profiles.json");
    writeFileSync(path, JSON.stringify({ profiles: {} }), { mode: 0o644 });
    saveProfile(path, "default", alice);
    expect(mode(path)).toBe(0o600);
  });

  it("cleans up and keeps what was there when the rename fails", () => {
    const path = join(dir, "profiles.json");
    mkdirSync(path); // a directory in the way: the rename over it fails
    writeFileSync(join(path, "inside"), "x");
    expect(() => writeProfiles(path, { default: alice })).toThrow(/cannot write .*profiles\.json/);
    expect(readdirSync(dir)).toEqual(["profiles.json"]);
    expect(readdirSync(path)).toEqual(["inside"]);
  });

  // root may write into a read-only directory, so the write is tried by a
  // child process: as root (CI) it runs as an unprivileged uid/gid that owns
  // the directory, otherwise as the current user. It imports the real module.
  it("leaves the old file intact when the new one cannot be written", () => {
    const path = join(dir, "profiles.json");
    saveProfile(path, "default", alice);
    const old = readFileSync(path, "utf8");
    const ids = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
    if ("uid" in ids) {
      chownSync(dir, NOBODY, NOBODY);
      chownSync(path, NOBODY, NOBODY);
    }
    chmodSync(dir, 0o500); // no new files in the directory
    let child: ReturnType<typeof spawnSync>;
    try {
      child = spawnSync(process.execPath, ["--conditions=@modelreg/source", "--import", TSX, "--input-type=module", "-e", WRITE_EMPTY, PROFILES_MODULE, path], {
        ...ids,
        cwd: dir,
        env: { ...process.env, HOME: dir },
        encoding: "utf8",
        timeout: 60_000,
      });
    } finally {
      chmodSync(dir, 0o700);
    }
    expect(child.error).toBeUndefined();
    expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: "" });
    const outcome = JSON.parse(String(child.stdout)) as { uid: number; error?: string };
    if ("uid" in ids) expect(outcome.uid).toBe(NOBODY);
    expect(outcome.error).toMatch(/cannot write/);
    expect(readFileSync(path, "utf8")).toBe(old);
    expect(readdirSync(dir)).toEqual(["profiles.json"]);
  });

  it("removes one profile and keeps the others", () => {
    const path = join(dir, "profiles.json");
    saveProfile(path, "default", alice);
    saveProfile(path, "prod", alice);
    expect(removeProfile(path, "default")).toBe(true);
    expect(removeProfile(path, "default")).toBe(false);
    expect(Object.keys(readProfiles(path))).toEqual(["prod"]);
    expect(mode(path)).toBe(0o600);
  });

  it("reads a missing file as no profiles and refuses a broken one", () => {
    expect(readProfiles(join(dir, "none.json"))).toEqual({});
    const path = join(dir, "profiles.json");
    writeFileSync(path, "{ nope");
    expect(() => readProfiles(path)).toThrow(/is not valid JSON/);
    writeFileSync(path, JSON.stringify({ profiles: { x: { server: "http://a" } } }));
    expect(() => readProfiles(path)).toThrow(/profile "x" needs "server" and "accessKey"/);
    mkdirSync(join(dir, "d"));
    expect(() => saveProfile(path, "bad name", alice)).toThrow();
  });
});
