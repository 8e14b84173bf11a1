// The command line itself: help, version, and every kind of usage error
// exiting 2 with a message that says what is wrong. No server involved:
// usage errors are caught before any call.
import { describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { run } from "./run.js";

async function cli(...argv: string[]) {
  // Nothing listens on port 1: a call that slipped through would fail with 24, not 2.
  const b = bufferIo({ MODELREG_SERVER: "http://127.0.0.1:1" });
  const code = await run(argv, b.io);
  return { code, stdout: b.stdout, stderr: b.stderr };
}

describe("run: help and version", () => {
  it("prints help with the exit-code table and exits 0", async () => {
    const r = await cli("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: modelreg [options] [command]");
    expect(r.stdout).toContain("--server <url>");
    expect(r.stdout).toContain("MODELREG_WORKSPACE");
    expect(r.stdout).toMatch(/Exit codes:[\s\S]*15 +not found[\s\S]*24 +unavailable/);
  });

  it("documents the access key order, profiles and the new commands", async () => {
    const r = await cli("--help");
    for (const text of ["--access-key <token>", "--profile <name>", "MODELREG_ACCESS_KEY", "MODELREG_PROFILE", "login", "logout", "whoami", "workspaces", "keys", "audit"])
      expect(r.stdout).toContain(text);
    expect(r.stdout).toMatch(/Access key[^\n]*the first that is set:\n\s+1\. --access-key[\s\S]*2\. MODELREG_ACCESS_KEY[\s\S]*3\. the profile[\s\S]*4\. for a server on this machine[\s\S]*admin\.key/);
    expect(r.stdout).toMatch(/modelreg keys create alice --role editor --expires 90d/);
    expect(r.stdout).toMatch(/26 +unauthenticated/);
    const login = await cli("login", "--help");
    expect(login.stdout).toContain("--access-key-stdin");
    expect(login.stdout).toContain("mode 0600");
  });

  it("prints help of a subcommand", async () => {
    const r = await cli("versions", "create", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: modelreg versions create [options] <model[:version]>");
    expect(r.stdout).toContain("--label <key=value>");
    expect((await cli("help", "models")).stdout).toContain("Usage: modelreg models");
  });

  it("prints the help of the innermost command `help` names", async () => {
    for (const argv of [["help", "versions", "create"], ["help", "version", "create"], ["versions", "help", "create"]]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(" ")).toBe(0);
      expect(r.stdout.split("\n")[0]).toBe("Usage: modelreg versions create [options] <model[:version]>");
      expect(r.stderr).toBe("");
    }
    const group = await cli("help", "models");
    expect(group.code).toBe(0);
    expect(group.stdout.split("\n")[0]).toBe("Usage: modelreg models|model [options] [command]");
    expect((await cli("help", "models", "ls")).stdout.split("\n")[0]).toMatch(/^Usage: modelreg models list\|ls /);
    const root = await cli("help");
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/^ {2}help \[command\.\.\.\] +show help for a command$/m);
  });

  it.each([
    [["help", "modles"], "error: unknown command 'modles'\n(Did you mean models?)\n"],
    [["help", "versions", "crate"], "error: unknown command 'crate'\n(Did you mean create?)\n"],
    [["help", "versions", "create", "extra"], "error: unknown command 'extra': 'versions create' has no subcommands\n"],
  ])("refuses an unknown name after help: %j", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`${message}(add --help for usage)\n`);
  });

  it("prints the version", async () => {
    const r = await cli("--version");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe("run: usage errors exit 2", () => {
  it.each([
    [["modles", "list"], /unknown command 'modles'[\s\S]*Did you mean models\?/],
    [["models", "get"], /missing required argument 'name'/],
    [["models", "get", "a", "b"], /too many arguments/],
    [["models", "list", "--bogus"], /unknown option '--bogus'/],
    [["models", "list", "--limit", "0"], /option '--limit <n>' argument '0' is invalid/],
    [["models", "list", "--page-size", "ten"], /argument 'ten' is invalid. expected a whole number/],
    [["-o", "xml", "models", "list"], /Allowed choices are table, json, yaml/],
    [["models", "list", "--protocol", "http"], /Allowed choices are connect, grpc, grpc-web/],
    [["models", "list", "--server", "localhost:8080"], /expected an http:\/\/ or https:\/\/ URL/],
    [["models", "list", "--timeout", "soon"], /expected a whole number of milliseconds/],
    [["models", "create", "m", "--label", "team"], /option '--label <key=value>' argument 'team' is invalid. expected key=value/],
    [["models", "create", "m", "--label", "a=1", "--label", "a=2"], /label "a" is given more than once/],
    [["models", "create", "fraud:1.0.0"], /names a version; a model is named without ":version"/],
    [["models", "create", "workspaces/w/models/m/versions/1.0.0"], /is not a model name/],
    [["models", "update", "m"], /nothing to update: give --description, --label or --clear-labels/],
    [["models", "update", "m", "--label", "a=1", "--clear-labels"], /cannot be combined/],
    [["versions", "get"], /give either model:version \(or model@alias\) or --uid/],
    [["versions", "get", "m:1.0.0", "--uid", "u"], /give either model:version \(or model@alias\) or --uid/],
    [["versions", "get", "fraud"], /is not a version reference: use model:version/],
    [["versions", "update", "fraud", "--description", "x"], /is not a version reference/],
    [["versions", "delete", "fraud:"], /is not a version reference/],
    [["versions", "list", "fraud:1.0.0"], /names a version/],
    [["keys", "create", "alice"], /required option '--role <role>' not specified/],
    [["keys", "create", "alice", "--role", "root"], /Allowed choices are viewer, editor, admin/],
    [["keys", "create", "alice", "--role", "viewer", "--expires", "tomorrow"], /--expires "tomorrow": expected a time/],
    [["keys", "revoke"], /missing required argument 'key'/],
    [["workspaces", "update", "team-a"], /required option '--description <text>' not specified/],
    [["audit", "list", "--limit", "0"], /argument '0' is invalid/],
    [["--profile", "no good", "models", "list"], /profile name "no good" is not valid/],
    [["--profile", "prod", "models", "list"], /there is no profile "prod": no config directory is known/],
    [["login", "--access-key", "AK1.secretsecretsecret", "--access-key-stdin"], /give --access-key or --access-key-stdin, not both/],
  ])("%j", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toContain("(add --help for usage)");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });

  it("shows the subcommands when a group is given without one", async () => {
    const r = await cli("versions");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: modelreg versions");
    expect(r.stderr).toContain("create [options] <model[:version]>");
  });

  it("refuses a malformed MODELREG_SERVER", async () => {
    const b = bufferIo({ MODELREG_SERVER: "nope" });
    expect(await run(["models", "list"], b.io)).toBe(2);
    expect(b.stderr).toContain("MODELREG_SERVER=nope: expected a URL");
  });
});

describe("run: an unreachable server", () => {
  it("exits 24 (Unavailable) with a hint naming the server", async () => {
    const r = await cli("models", "list", "--timeout", "5000");
    expect(r.code).toBe(24);
    expect(r.stderr).toMatch(/^error: .*ECONNREFUSED/);
    expect(r.stderr).toContain("hint: is the server running at http://127.0.0.1:1? start it with npm start");
    expect(r.stdout).toBe("");
  });

  it("also prints the error as JSON with -o json", async () => {
    const r = await cli("-o", "json", "models", "get", "m", "--server", "http://127.0.0.1:1");
    expect(r.code).toBe(24);
    expect(JSON.parse(r.stderr.trimEnd().split("\n").at(-1)!)).toMatchObject({ error: { code: "unavailable" } });
  });
});
