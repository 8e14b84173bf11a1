import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  adminKeyFile,
  checkToken,
  describeCredential,
  keyIdOf,
  resolveCredential,
  sameServer,
  type ActiveProfile,
  type CredentialInput,
} from "./credentials.js";
import { UsageError } from "./exit-codes.js";

const FLAG = "AKFLAG0000000000001.flag-secret-0000000000";
const ENV = "AKENV00000000000001.env-secret-00000000000";
const PROFILE = "AKPROFILE000000001.profile-secret-0000000";
const ADMIN = "AKADMIN00000000001.admin-secret-000000000";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "modelreg-cred-"));
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "admin.key"), `${ADMIN}\n`, { mode: 0o600 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const profile: ActiveProfile = { name: "default", path: "/cfg/profiles.json", profile: { server: "http://localhost:8080", accessKey: PROFILE } };

function input(overrides: Partial<CredentialInput>): CredentialInput {
  return { flag: FLAG, env: { MODELREG_ACCESS_KEY: ENV }, server: "http://localhost:8080", profile, cwd: dir, ...overrides };
}

describe("resolveCredential", () => {
  it("takes --access-key, then MODELREG_ACCESS_KEY, then the profile, then DATA_DIR/admin.key", () => {
    expect(resolveCredential(input({}))).toMatchObject({ token: FLAG, source: { kind: "flag" } });
    expect(resolveCredential(input({ flag: undefined }))).toMatchObject({ token: ENV, source: { kind: "env" } });
    expect(resolveCredential(input({ flag: undefined, env: { MODELREG_ACCESS_KEY: "  " } }))).toMatchObject({
      token: PROFILE,
      source: { kind: "profile", profile: "default", path: "/cfg/profiles.json" },
    });
    const admin = resolveCredential(input({ flag: undefined, env: {}, profile: undefined }));
    expect(admin).toEqual({ token: ADMIN, source: { kind: "admin-key-file", path: join(dir, "data", "admin.key") }, adminKeyPath: join(dir, "data", "admin.key") });
  });

  it("reads admin.key only for a loopback server", () => {
    for (const server of ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:8080", "https://LOCALHOST"]) {
      expect(resolveCredential(input({ flag: undefined, env: {}, profile: undefined, server })).token).toBe(ADMIN);
    }
    for (const server of ["https://registry.example.com", "http://10.0.0.5:8080", "http://localhost.example.com", "http://127.0.0.2:8080"]) {
      expect(resolveCredential(input({ flag: undefined, env: {}, profile: undefined, server }))).toEqual({ token: undefined, source: { kind: "none" } });
    }
  });

  it("finds admin.key in DATA_DIR, relative to the working directory or absolute", () => {
    mkdirSync(join(dir, "elsewhere"));
    writeFileSync(join(dir, "elsewhere", "admin.key"), `${ADMIN}\n`);
    const base = { flag: undefined, profile: undefined };
    expect(resolveCredential(input({ ...base, env: { DATA_DIR: "elsewhere" } })).source).toEqual({ kind: "admin-key-file", path: join(dir, "elsewhere", "admin.key") });
    expect(resolveCredential(input({ ...base, env: { DATA_DIR: join(dir, "elsewhere") }, cwd: undefined })).token).toBe(ADMIN);
    // A relative DATA_DIR with no working directory known, or no file: no key.
    expect(resolveCredential(input({ ...base, env: {}, cwd: undefined })).token).toBeUndefined();
    expect(resolveCredential(input({ ...base, env: { DATA_DIR: "missing" } }))).toMatchObject({ token: undefined, source: { kind: "none" } });
    expect(adminKeyFile({}, "/srv")).toBe("/srv/data/admin.key");
  });

  it("sends no key for an empty --access-key", () => {
    expect(resolveCredential(input({ flag: "" }))).toMatchObject({ token: undefined, source: { kind: "flag" } });
  });

  it("refuses a malformed key without printing it", () => {
    const run = () => resolveCredential(input({ flag: undefined, env: { MODELREG_ACCESS_KEY: "no-dot-secretvalue" } }));
    expect(run).toThrow(UsageError);
    expect(run).toThrow("the access key from MODELREG_ACCESS_KEY is not of the form <key_id>.<secret>");
    try {
      checkToken("AK1.has space", "--access-key");
    } catch (e) {
      expect((e as Error).message).not.toContain("has space");
    }
  });
});

describe("helpers", () => {
  it("compares servers by scheme, host, port and path", () => {
    expect(sameServer("http://localhost:8080", "http://LOCALHOST:8080/")).toBe(true);
    expect(sameServer("https://r.example.com", "https://r.example.com:443")).toBe(true);
    expect(sameServer("http://localhost:8080", "http://127.0.0.1:8080")).toBe(false);
    expect(sameServer("http://r.example.com", "https://r.example.com")).toBe(false);
  });

  it("names a key by id and source, never its secret", () => {
    expect(keyIdOf(FLAG)).toBe("AKFLAG0000000000001");
    const text = describeCredential({ token: PROFILE, source: { kind: "profile", profile: "prod", path: "/p.json" } });
    expect(text).toBe('access key AKPROFILE000000001 from profile "prod" (/p.json)');
    expect(describeCredential({ token: undefined, source: { kind: "none" } })).toBe("no access key");
  });
});
