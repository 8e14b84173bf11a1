// Access keys end to end: which key a command sends (proved by the
// Authorization header the real server receives), profiles saved by login
// and removed by logout, whoami, and what an unauthenticated call says.
// Every file lives in a temp directory: MODELREG_CONFIG_DIR for profiles, a
// working directory for ./data/admin.key.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Role } from "@modelreg/sdk";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bufferIo, type BufferIoOptions } from "./io.js";
import { readProfiles, saveProfile } from "./profiles.js";
import { run } from "./run.js";
import { createRegistry, START_MS, type Registry } from "./testing/registry.js";

let reg: Registry;
beforeAll(async () => {
  reg = await createRegistry({ auth: true, workspaces: ["default", "team-a"] });
}, 60_000);
afterAll(async () => reg?.close());
let dir: string;
let cwd: string;
let configDir: string;
let profilesFile: string;
let adminKeyFile: string;

beforeEach(async () => {
  await reg.reset();
  dir = mkdtempSync(join(tmpdir(), "modelreg-auth-"));
  cwd = join(dir, "work");
  configDir = join(dir, "config", "modelreg");
  profilesFile = join(configDir, "profiles.json");
  adminKeyFile = join(cwd, "data", "admin.key");
  mkdirSync(join(cwd, "data"), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The server writes this on its first start. */
function writeAdminKey(token = reg.adminToken) {
  writeFileSync(adminKeyFile, `${token}\n`, { mode: 0o600 });
}

async function cli(argv: string[], env: Record<string, string> = {}, options: BufferIoOptions = {}) {
  const b = bufferIo({ MODELREG_CONFIG_DIR: configDir, ...env }, { cwd, ...options });
  const code = await run(argv, b.io, { transport: reg.transport, now: () => new Date(START_MS) });
  return { code, stdout: b.stdout, stderr: b.stderr, prompts: b.prompts, json: () => JSON.parse(b.stdout) };
}

/** The Authorization header of the last call. */
const lastAuth = () => reg.calls.at(-1)?.authorization;
const bearer = (token: string) => `Bearer ${token}`;
const secretOf = (token: string) => token.slice(token.indexOf(".") + 1);

describe("which access key is sent", () => {
  let flag: string;
  let env: string;
  let profile: string;
  beforeEach(async () => {
    flag = await reg.addKey({ user: "from-flag", role: Role.VIEWER });
    env = await reg.addKey({ user: "from-env", role: Role.VIEWER });
    profile = await reg.addKey({ user: "from-profile", role: Role.VIEWER });
    writeAdminKey();
    saveProfile(profilesFile, "default", { server: "http://localhost:8080", accessKey: profile });
  });

  it("--access-key, then MODELREG_ACCESS_KEY, then the profile, then DATA_DIR/admin.key", async () => {
    const who = async (argv: string[], e: Record<string, string> = {}) => {
      const r = await cli(["whoami", "-o", "json", ...argv], e);
      expect(r.code, r.stderr).toBe(0);
      return { user: r.json().user, auth: lastAuth() };
    };
    expect(await who(["--access-key", flag], { MODELREG_ACCESS_KEY: env })).toEqual({ user: "from-flag", auth: bearer(flag) });
    expect(await who([], { MODELREG_ACCESS_KEY: env })).toEqual({ user: "from-env", auth: bearer(env) });
    expect(await who([])).toEqual({ user: "from-profile", auth: bearer(profile) });
    rmSync(profilesFile);
    expect(await who([])).toEqual({ user: "admin", auth: bearer(reg.adminToken) });
    // Nothing left: no key is sent at all.
    expect((await cli(["whoami"], { DATA_DIR: join(dir, "nowhere") })).code).toBe(26);
    expect(lastAuth()).toBeUndefined();
  });

  it("reads admin.key from DATA_DIR (relative to the working directory, or absolute) for loopback servers", async () => {
    rmSync(profilesFile);
    for (const server of ["http://127.0.0.1:8080", "http://localhost:9999", "http://[::1]:8080"]) {
      expect((await cli(["whoami", "--server", server])).code).toBe(0);
      expect(lastAuth()).toBe(bearer(reg.adminToken));
    }
    mkdirSync(join(dir, "other"));
    writeFileSync(join(dir, "other", "admin.key"), `${env}\n`);
    expect((await cli(["whoami"], { DATA_DIR: join(dir, "other") })).code).toBe(0);
    expect(lastAuth()).toBe(bearer(env));
    expect((await cli(["whoami"], { DATA_DIR: "../other" })).code).toBe(0);
    expect(lastAuth()).toBe(bearer(env));
  });

  it("never reads admin.key for a server on another host", async () => {
    rmSync(profilesFile);
    const r = await cli(["whoami", "--server", "https://registry.example.com"]);
    expect(lastAuth()).toBeUndefined();
    expect(r.code).toBe(26);
    expect(r.stderr).toContain("hint: no access key was sent: log in with `modelreg login` or set MODELREG_ACCESS_KEY");
    expect(r.stderr).not.toContain("admin.key");
    expect((await cli(["whoami"], { MODELREG_SERVER: "http://10.1.2.3:8080" })).code).toBe(26);
    expect(lastAuth()).toBeUndefined();
  });

  it("uses a profile only for its own server, and takes the server from it", async () => {
    saveProfile(profilesFile, "default", { server: "https://registry.example.com", accessKey: profile });
    // No --server: the profile's server and key.
    const r = await cli(["whoami"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Server:\s+https:\/\/registry\.example\.com$/m);
    expect(r.stdout).toMatch(/^Credential:\s+access key AK\w+ from profile "default" \(.*profiles\.json\)$/m);
    expect(lastAuth()).toBe(bearer(profile));
    // The same server, spelled differently: still the profile.
    expect((await cli(["whoami"], { MODELREG_SERVER: "https://REGISTRY.example.com/" })).code).toBe(0);
    expect(lastAuth()).toBe(bearer(profile));
    // Another server: not the profile's key (and here, a loopback one: admin.key).
    expect((await cli(["whoami", "--server", "http://localhost:8080"])).code).toBe(0);
    expect(lastAuth()).toBe(bearer(reg.adminToken));
    expect((await cli(["whoami", "--server", "https://other.example.com"])).code).toBe(26);
    expect(lastAuth()).toBeUndefined();
    // Named explicitly, the mismatch is pointed out.
    const named = await cli(["whoami", "--server", "https://other.example.com", "--profile", "default"]);
    expect(named.stderr).toContain('note: profile "default" is for https://registry.example.com, not https://other.example.com');
  });

  it("selects a profile with --profile or MODELREG_PROFILE, and refuses one that does not exist", async () => {
    const prod = await reg.addKey({ user: "prod-user", role: Role.VIEWER });
    saveProfile(profilesFile, "prod", { server: "http://localhost:8080", accessKey: prod });
    expect((await cli(["whoami", "--profile", "prod"])).code).toBe(0);
    expect(lastAuth()).toBe(bearer(prod));
    expect((await cli(["whoami"], { MODELREG_PROFILE: "prod" })).code).toBe(0);
    expect(lastAuth()).toBe(bearer(prod));
    expect((await cli(["whoami", "--profile", "default"], { MODELREG_PROFILE: "prod" })).code).toBe(0);
    expect(lastAuth()).toBe(bearer(profile));
    const missing = await cli(["models", "list", "--profile", "staging"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`there is no profile "staging" in ${profilesFile}: log in with modelreg login --profile staging`);
  });

  it("takes the default workspace from the profile; flag and environment still win", async () => {
    const teamKey = await reg.addKey({ user: "team", role: Role.VIEWER, workspace: "team-a" });
    saveProfile(profilesFile, "default", { server: "http://localhost:8080", accessKey: teamKey, workspace: "team-a" });
    expect((await cli(["models", "list"])).code).toBe(0);
    expect(reg.calls.at(-1)!.request).toMatchObject({ parent: "workspaces/team-a" });
    await cli(["models", "list"], { MODELREG_WORKSPACE: "default" });
    expect(reg.calls.at(-1)!.request).toMatchObject({ parent: "workspaces/default" });
    await cli(["models", "list", "--workspace", "default"]);
    expect(reg.calls.at(-1)!.request).toMatchObject({ parent: "workspaces/default" });
  });

  it("refuses a malformed key without printing it", async () => {
    const r = await cli(["whoami"], { MODELREG_ACCESS_KEY: "not-a-token-but-secret" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: the access key from MODELREG_ACCESS_KEY is not of the form <key_id>.<secret>");
    expect(r.stderr).not.toContain("not-a-token-but-secret");
    expect(reg.calls.at(-1)?.method).not.toBe("GetServerInfo");
  });
});

describe("unauthenticated and permission errors", () => {
  it("exits 26 with a hint to log in, naming admin.key for a local server", async () => {
    const r = await cli(["models", "list"]);
    expect(r.code).toBe(26);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^error: this call needs an access key/);
    expect(lines[1]).toBe(
      `hint: no access key was sent: log in with \`modelreg login\` or set MODELREG_ACCESS_KEY; for a server on this machine the CLI also reads the admin key it writes to DATA_DIR/admin.key (looked in ${adminKeyFile})`,
    );
  });

  it("names the refused key by id and source, never its secret", async () => {
    const revoked = await reg.addKey({ user: "gone", role: Role.ADMIN, revoked: true });
    const r = await cli(["models", "list", "-o", "json"], { MODELREG_ACCESS_KEY: revoked });
    expect(r.code).toBe(26);
    expect(r.stderr).toContain(`hint: the server refused the access key ${revoked.split(".")[0]} from MODELREG_ACCESS_KEY: log in with \`modelreg login\``);
    expect(r.stderr).not.toContain(secretOf(revoked));
    expect(JSON.parse(r.stderr.trimEnd().split("\n").at(-1)!)).toMatchObject({ error: { code: "unauthenticated" } });

    writeAdminKey("AKSTALE0000000001.stale-secret-000000000000");
    const stale = await cli(["models", "list"]);
    expect(stale.code).toBe(26);
    expect(stale.stderr).toContain(
      `hint: the server refused the access key AKSTALE0000000001 from ${adminKeyFile}: log in with \`modelreg login\` or set MODELREG_ACCESS_KEY; if the server's database was reset, ${adminKeyFile} may be stale`,
    );
    expect(stale.stderr).not.toContain("stale-secret");
  });

  it("exits 17 with a hint when the role is too small", async () => {
    const viewer = await reg.addKey({ user: "vic", role: Role.VIEWER });
    const r = await cli(["models", "create", "m"], { MODELREG_ACCESS_KEY: viewer });
    expect(r.code).toBe(17);
    expect(r.stderr).toMatch(/^error: modelreg\.v1\.ModelService\/CreateModel needs the editor role or higher/);
    expect(r.stderr).toContain(
      `hint: the role of the access key ${viewer.split(".")[0]} from MODELREG_ACCESS_KEY is not enough for this (see modelreg whoami); use a key with the role the message names: give another with --access-key or MODELREG_ACCESS_KEY\n`,
    );
    expect(r.stderr).not.toContain(secretOf(viewer));
  });

  it("names the profile that beat the local admin.key when its role is too small, and how to switch", async () => {
    writeAdminKey();
    const viewer = await reg.addKey({ user: "vic", role: Role.VIEWER });
    expect((await cli(["login", "--access-key", viewer])).code).toBe(0);
    // The profile wins over ./data/admin.key, so the admin key is not used.
    const r = await cli(["models", "create", "m"]);
    expect(r.code).toBe(17);
    expect(lastAuth()).toBe(bearer(viewer));
    const hint = r.stderr.split("\n").find((l) => l.startsWith("hint: "));
    expect(hint).toBe(
      `hint: the role of the access key ${viewer.split(".")[0]} from profile "default" (${profilesFile}) is not enough for this (see modelreg whoami); ` +
        'use a key with the role the message names: give another with --access-key, MODELREG_ACCESS_KEY or --profile <name>, or drop profile "default" with `modelreg logout`; ' +
        `for a server on this machine the CLI then falls back to DATA_DIR/admin.key (looked in ${adminKeyFile})`,
    );
    expect(r.stderr).not.toContain(secretOf(viewer));
    expect(r.stderr).not.toContain(secretOf(reg.adminToken));

    // Each way the hint names works.
    expect((await cli(["models", "create", "by-flag", "--access-key", reg.adminToken])).code).toBe(0);
    expect((await cli(["models", "create", "by-env"], { MODELREG_ACCESS_KEY: reg.adminToken })).code).toBe(0);
    saveProfile(profilesFile, "ops", { server: "http://localhost:8080", accessKey: reg.adminToken });
    expect((await cli(["models", "create", "by-profile", "--profile", "ops"])).code).toBe(0);
    expect((await cli(["logout"])).code).toBe(0);
    expect((await cli(["models", "create", "by-admin-key"])).code).toBe(0);
    expect(lastAuth()).toBe(bearer(reg.adminToken));

    // A named profile is dropped by name; for a remote server there is no admin.key to fall back to.
    saveProfile(profilesFile, "remote", { server: "https://registry.example.com", accessKey: viewer });
    const denied = await cli(["models", "create", "m", "--profile", "remote"]);
    expect(denied.code).toBe(17);
    expect(denied.stderr).toContain('or drop profile "remote" with `modelreg logout --profile remote`\n');
    expect(denied.stderr).not.toContain("admin.key");
  });
});

describe("login, whoami, logout", () => {
  it("verifies the key, prints who you are, and saves the profile (0600, directory 0700)", async () => {
    const alice = await reg.addKey({ user: "alice", role: Role.EDITOR, workspace: "team-a" });
    const r = await cli(["login", "--access-key", alice]);
    expect(r.code, r.stderr).toBe(0);
    expect(reg.calls.at(-1)).toMatchObject({ method: "GetServerInfo", authorization: bearer(alice) });
    expect(r.stdout).toContain(`Logged in to http://localhost:8080 as alice (editor in workspaces/team-a), key ${alice.split(".")[0]}.`);
    expect(r.stdout).toContain(`Saved profile "default" in ${profilesFile} (workspace: team-a)`);
    expect(r.stdout + r.stderr).not.toContain(secretOf(alice));

    expect(readProfiles(profilesFile)).toEqual({ default: { server: "http://localhost:8080", accessKey: alice, workspace: "team-a" } });
    expect(statSync(profilesFile).mode & 0o777).toBe(0o600);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);

    // Later commands use it: key, and workspace for short names.
    expect((await cli(["models", "create", "fraud"])).code).toBe(0);
    expect(reg.calls.at(-1)).toMatchObject({ method: "CreateModel", authorization: bearer(alice), request: { parent: "workspaces/team-a" } });

    const who = await cli(["whoami"]);
    expect(who.code).toBe(0);
    expect(who.stdout).toMatch(/^User:\s+alice$/m);
    expect(who.stdout).toMatch(/^Role:\s+editor$/m);
    expect(who.stdout).toMatch(/^Workspace:\s+workspaces\/team-a$/m);
    expect(who.stdout).toMatch(/^Key expires:\s+never$/m);
    expect(who.stdout).toMatch(/^Server version:\s+\d+\.\d+\.\d+$/m);
    expect(who.stdout).not.toContain(secretOf(alice));
    expect((await cli(["whoami", "-o", "json"])).json()).toMatchObject({ user: "alice", role: "ROLE_EDITOR", workspace: "workspaces/team-a", authEnabled: true });
  });

  it("reads the key from stdin or a prompt, and saves named profiles for other servers", async () => {
    const bob = await reg.addKey({ user: "bob", role: Role.ADMIN });
    const piped = await cli(["login", "--access-key-stdin", "--profile", "prod", "--server", "https://registry.example.com/", "-o", "json"], {}, { stdin: `\n${bob}\n` });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.json()).toMatchObject({ profile: "prod", server: "https://registry.example.com", workspace: "default", serverInfo: { user: "bob" } });
    expect(piped.stdout).not.toContain(secretOf(bob));

    // Without --access-key on a terminal: a prompt (that does not echo).
    const carol = await reg.addKey({ user: "carol", role: Role.VIEWER });
    const prompted = await cli(["login", "--workspace", "workspaces/default"], {}, { answers: [carol] });
    expect(prompted.code, prompted.stderr).toBe(0);
    expect(prompted.prompts).toEqual(["Access key (<key_id>.<secret>): "]);
    // Not a terminal: stdin.
    expect((await cli(["login", "--profile", "ci"], {}, { stdin: carol })).code).toBe(0);

    expect(readProfiles(profilesFile)).toEqual({
      prod: { server: "https://registry.example.com", accessKey: bob, workspace: "default" },
      default: { server: "http://localhost:8080", accessKey: carol, workspace: "default" },
      ci: { server: "http://localhost:8080", accessKey: carol, workspace: "default" },
    });
    expect((await cli(["whoami", "--profile", "prod", "-o", "json"])).json().user).toBe("bob");
    expect(lastAuth()).toBe(bearer(bob));
  });

  it("saves nothing when the server refuses the key", async () => {
    const r = await cli(["login", "--access-key", "AKNOPE00000000001.wrong-secret-00000000000"]);
    expect(r.code).toBe(26);
    expect(r.stderr).toContain("access key AKNOPE00000000001 is not known");
    expect(r.stderr).not.toContain("wrong-secret");
    expect(() => statSync(profilesFile)).toThrow();
  });

  it("refuses a missing, malformed or doubly given key with exit 2", async () => {
    const none = await cli(["login"], {}, { stdin: "\n" });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no access key on standard input");
    const bad = await cli(["login", "--access-key", "secretwithoutdot"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain("secretwithoutdot");
    expect((await cli(["login", "--access-key", reg.adminToken, "--access-key-stdin"])).code).toBe(2);
    // login saves the key it is given; the environment's is not read.
    expect((await cli(["login"], { MODELREG_ACCESS_KEY: reg.adminToken }, { stdin: "" })).code).toBe(2);
    expect(reg.calls).toEqual([]);
  });

  it("warns when --workspace is not the key's workspace", async () => {
    const alice = await reg.addKey({ user: "alice", role: Role.EDITOR, workspace: "team-a" });
    const r = await cli(["login", "--access-key", alice, "--workspace", "default"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: the key works only in workspaces/team-a");
  });

  it("logs out: removes the profile, keeps the others", async () => {
    await cli(["login", "--access-key", reg.adminToken]);
    await cli(["login", "--access-key", reg.adminToken, "--profile", "prod"]);
    const r = await cli(["logout"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Removed profile "default" from ${profilesFile}.\n`);
    expect(Object.keys(readProfiles(profilesFile))).toEqual(["prod"]);
    const again = await cli(["logout"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('not logged in: there is no profile "default"');
    expect((await cli(["logout", "--profile", "prod", "-o", "json"])).json()).toEqual({ profile: "prod", removed: true, path: profilesFile });
    expect(readFileSync(profilesFile, "utf8")).toBe('{\n  "profiles": {}\n}\n');
    // Nothing was sent to the server by logout.
    expect(reg.calls.filter((c) => c.method !== "GetServerInfo")).toEqual([]);
  });

  it("uses the local admin.key out of the box (npm start, then the CLI)", async () => {
    writeAdminKey();
    const r = await cli(["whoami"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Role:\s+admin \(server-wide\)$/m);
    expect(r.stdout).toMatch(/^Workspace:\s+all \(server-wide admin key\)$/m);
    expect(r.stdout).toContain(`Credential:     access key ${reg.adminToken.split(".")[0]} from ${adminKeyFile}`);
    expect((await cli(["models", "create", "fraud"])).code).toBe(0);
  });
});
