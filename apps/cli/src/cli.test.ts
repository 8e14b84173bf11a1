// The CLI end to end, in process: run() with a transport to an in-memory
// instance of the real server's routes on PGlite (testing/registry.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { expectOk, runCli } from "./testing/cli-run.js";
import { run } from "./run.js";
import { createRegistry, type Registry } from "./testing/registry.js";

let reg: Registry;
beforeAll(async () => {
  reg = await createRegistry({ workspaces: ["default", "team-a"] });
}, 60_000);
afterAll(async () => reg?.close());

async function cli(...argv: string[]) {
  return runCli(argv, bufferIo({}), { transport: reg.transport });
}

/** Runs a command that must succeed. */
async function ok(...argv: string[]) {
  return expectOk(argv, await cli(...argv));
}

beforeEach(async () => {
  await reg.reset();
});

describe("models", () => {
  it("creates, gets, lists, updates and deletes a model", async () => {
    const created = await ok("models", "create", "fraud-detector", "--description", "card fraud", "--label", "team=risk", "--label", "tier=gold");
    expect(created.stdout).toMatch(/^Name:\s+workspaces\/default\/models\/fraud-detector$/m);
    expect(created.stdout).toMatch(/^Labels:\s+team=risk\n\s+tier=gold$/m);
    expect(reg.calls.at(-1)).toMatchObject({ method: "CreateModel", request: { parent: "workspaces/default", modelId: "fraud-detector" } });

    const got = (await ok("models", "get", "fraud-detector", "-o", "json")).json();
    expect(got).toMatchObject({ name: "workspaces/default/models/fraud-detector", description: "card fraud", labels: { team: "risk", tier: "gold" }, versionCount: "0" });

    await ok("models", "create", "churn");
    const table = (await ok("models", "list")).stdout.split("\n");
    expect(table[0]).toMatch(/^NAME\s+LATEST\s+VERSIONS\s+ALIASES\s+DESCRIPTION\s+UPDATED$/);
    expect(table[1]).toMatch(/^churn\s+-\s+0\s+-\s+-\s+2026-/);
    expect(table[2]).toMatch(/^fraud-detector\s+-\s+0\s+-\s+card fraud\s+2026-/);

    // Only the description changes; labels stay.
    const updated = (await ok("models", "update", "fraud-detector", "--description", "v2", "--etag", got.etag, "-o", "json")).json();
    expect(updated).toMatchObject({ description: "v2", labels: { team: "risk", tier: "gold" } });
    expect(reg.calls.at(-1)).toMatchObject({ method: "UpdateModel", request: { updateMask: { paths: ["description"] }, model: { etag: got.etag } } });

    // Labels replace the whole map; --clear-labels empties it.
    expect((await ok("models", "update", "fraud-detector", "--label", "team=ml", "-o", "json")).json().labels).toEqual({ team: "ml" });
    expect((await ok("models", "update", "fraud-detector", "--clear-labels", "-o", "json")).json().labels).toEqual({});

    const deleted = await ok("models", "delete", "fraud-detector");
    expect(deleted.stdout).toBe("deleted model workspaces/default/models/fraud-detector\n");
    expect((await ok("models", "delete", "churn", "-o", "json")).stdout).toBe("{}\n");
    expect((await ok("models", "list", "-o", "json")).json()).toEqual([]);
  });

  it("lists every page, or stops at --limit without fetching more", async () => {
    for (let i = 0; i < 7; i++) await ok("models", "create", `m${i}`);
    reg.calls.length = 0;
    const all = (await ok("models", "list", "--page-size", "3", "-o", "json")).json();
    expect(all.map((m: { name: string }) => m.name.split("/").at(-1))).toEqual(["m0", "m1", "m2", "m3", "m4", "m5", "m6"]);
    expect(reg.calls.filter((c) => c.method === "ListModels")).toHaveLength(3);

    reg.calls.length = 0;
    const two = (await ok("models", "list", "--limit", "2", "-o", "json")).json();
    expect(two).toHaveLength(2);
    expect(reg.calls).toEqual([{ method: "ListModels", request: expect.objectContaining({ pageSize: 2 }) }]);

    const table = (await ok("models", "list", "--limit", "4", "--page-size", "3")).stdout.trim().split("\n");
    expect(table).toHaveLength(5); // header + 4
  });

  it("accepts global options after the subcommand, env defaults and full names", async () => {
    await ok("models", "create", "a", "--workspace", "team-a");
    expect(reg.calls.at(-1)!.request).toMatchObject({ parent: "workspaces/team-a", modelId: "a" });
    await ok("models", "create", "workspaces/team-a/models/b");
    expect(reg.calls.at(-1)!.request).toMatchObject({ parent: "workspaces/team-a", modelId: "b" });

    const b = bufferIo({ MODELREG_WORKSPACE: "team-a" });
    expect(await run(["models", "list", "-o", "json"], b.io, { transport: reg.transport })).toBe(0);
    expect(JSON.parse(b.stdout)).toHaveLength(2);
    // A flag wins over the environment.
    const c = bufferIo({ MODELREG_WORKSPACE: "team-a" });
    expect(await run(["--workspace", "default", "models", "list", "-o", "json"], c.io, { transport: reg.transport })).toBe(0);
    expect(JSON.parse(c.stdout)).toEqual([]);
  });

  it("maps failures to exit codes with field violations and hints", async () => {
    await ok("models", "create", "fraud");

    const dup = await cli("models", "create", "fraud");
    expect(dup.code).toBe(16);
    expect(dup.stderr).toContain("error: model workspaces/default/models/fraud already exists");

    const bad = await cli("models", "create", "1bad");
    expect(bad.code).toBe(13);
    expect(bad.stderr).toMatch(/^ {2}model_id: "1bad" is not a valid model name: use 1-64 characters/m);

    const missing = await cli("models", "get", "nope", "-o", "json");
    expect(missing.code).toBe(15);
    expect(missing.stdout).toBe("");
    const lines = missing.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("error: model workspaces/default/models/nope not found");
    expect(lines[1]).toMatch(/^hint: short names resolve in workspace "default"/);
    expect(JSON.parse(lines.at(-1)!)).toEqual({
      error: { code: "not_found", message: "model workspaces/default/models/nope not found", reason: "NOT_FOUND", metadata: { resource: "workspaces/default/models/nope", resource_type: "model" }, fieldViolations: [] },
    });

    const stale = await cli("models", "update", "fraud", "--description", "x", "--etag", "old");
    expect(stale.code).toBe(20);
    expect(stale.stderr).toMatch(/hint: it changed since you read it; re-read it with get and retry with the new etag \(now [\w-]+\)/);

    await ok("versions", "create", "fraud");
    const busy = await cli("models", "delete", "fraud");
    expect(busy.code).toBe(19);
    expect(busy.stderr).toContain("add --force");
    expect((await ok("models", "delete", "fraud", "--force")).stdout).toBe("deleted model workspaces/default/models/fraud (with its versions)\n");
  });
});

describe("versions", () => {
  beforeEach(async () => {
    await ok("models", "create", "fraud-detector");
  });

  it("lets the server assign versions, or takes one explicitly", async () => {
    const first = (await ok("versions", "create", "fraud-detector", "--label", "dataset=2026-10", "-o", "json")).json();
    expect(first).toMatchObject({ version: "1.0.0", labels: { dataset: "2026-10" }, model: "workspaces/default/models/fraud-detector" });
    expect(reg.calls.at(-1)!.request).toMatchObject({ parent: "workspaces/default/models/fraud-detector", versionId: "" });
    expect((await ok("versions", "create", "fraud-detector", "-o", "json")).json().version).toBe("1.0.1");
    const explicit = await ok("versions", "create", "fraud-detector:2.0.0-rc.1", "--description", "candidate");
    expect(explicit.stdout).toMatch(/^Version:\s+2\.0\.0-rc\.1$/m);
    await ok("versions", "create", "workspaces/default/models/fraud-detector/versions/1.5.0");

    const table = (await ok("versions", "list", "fraud-detector")).stdout.trim().split("\n");
    expect(table[0]).toMatch(/^VERSION\s+STATE\s+FRAMEWORK\s+ALIASES\s+LABELS\s+CREATED$/);
    expect(table.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["2.0.0-rc.1", "1.5.0", "1.0.1", "1.0.0"]);
    expect(table.at(-1)).toMatch(/^1\.0\.0\s+pending\s+-\s+-\s+dataset=2026-10\s+2026-\S+$/);

    const limited = (await ok("versions", "list", "fraud-detector", "--limit", "1", "-o", "json")).json();
    expect(limited.map((v: { version: string }) => v.version)).toEqual(["2.0.0-rc.1"]);

    const model = (await ok("models", "get", "fraud-detector", "-o", "json")).json();
    expect(model).toMatchObject({ latestVersion: "2.0.0-rc.1", versionCount: "4" });
  });

  it("gets by name or uid, updates with a mask, deletes with an etag", async () => {
    const v = (await ok("versions", "create", "fraud-detector", "--description", "first", "--label", "a=1", "-o", "json")).json();
    expect((await ok("versions", "get", "fraud-detector:1.0.0", "-o", "json")).json()).toEqual(v);
    expect((await ok("versions", "get", "--uid", v.uid, "-o", "json")).json()).toEqual(v);
    expect(reg.calls.at(-1)!.request).toMatchObject({ ref: { case: "uid", value: v.uid } });
    expect((await ok("versions", "get", v.name)).stdout).toMatch(/^Uid:\s+[0-9a-f-]{36}$/m);

    const updated = (await ok("versions", "update", "fraud-detector:1.0.0", "--label", "stage=prod", "--etag", v.etag, "-o", "json")).json();
    expect(updated).toMatchObject({ description: "first", labels: { stage: "prod" } });
    expect(reg.calls.at(-1)!.request).toMatchObject({ updateMask: { paths: ["labels"] } });

    const stale = await cli("versions", "delete", "fraud-detector:1.0.0", "--etag", v.etag);
    expect(stale.code).toBe(20);
    expect((await ok("versions", "delete", "fraud-detector:1.0.0", "--etag", updated.etag)).stdout).toBe(
      "deleted version workspaces/default/models/fraud-detector/versions/1.0.0\n",
    );

    const gone = await cli("versions", "get", "fraud-detector:1.0.0");
    expect(gone.code).toBe(15);
    const empty = await ok("versions", "list", "fraud-detector");
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toBe("no versions of workspaces/default/models/fraud-detector\n");
  });

  it("says whether the model or its version is missing, and where to look", async () => {
    const noModel = await cli("versions", "get", "fraud-detectr:2.0.0");
    expect(noModel.code).toBe(15);
    expect(noModel.stderr.split("\n").slice(0, 2)).toEqual([
      "error: model workspaces/default/models/fraud-detectr not found",
      'hint: short names resolve in workspace "default" (--workspace / MODELREG_WORKSPACE); see what exists with "modelreg models list"',
    ]);
    const json = await cli("versions", "get", "fraud-detectr@production", "-o", "json");
    expect(JSON.parse(json.stderr.trimEnd().split("\n").at(-1)!).error.metadata).toEqual({ resource: "workspaces/default/models/fraud-detectr", resource_type: "model" });

    const noVersion = await cli("versions", "get", "fraud-detector:9.9.9");
    expect(noVersion.code).toBe(15);
    expect(noVersion.stderr.split("\n").slice(0, 2)).toEqual([
      "error: version workspaces/default/models/fraud-detector/versions/9.9.9 not found",
      'hint: see the versions of model fraud-detector with "modelreg versions list fraud-detector"',
    ]);
    const noAlias = await cli("versions", "get", "fraud-detector@production");
    expect(noAlias.stderr).toContain('hint: see the aliases of model fraud-detector with "modelreg aliases list fraud-detector"\n');
    expect((await cli("versions", "files", "fraud-detector:9.9.9")).stderr).toContain('"modelreg versions list fraud-detector"');

    // A full name in another workspace: the hint says which.
    await ok("models", "create", "ranker", "--workspace", "team-a");
    const elsewhere = await cli("versions", "update", "workspaces/team-a/models/ranker/versions/1.0.0", "--description", "x");
    expect(elsewhere.stderr).toContain('hint: see the versions of model ranker with "modelreg versions list ranker --workspace team-a"\n');
  });

  it("reports bad versions and missing models", async () => {
    const bad = await cli("versions", "create", "fraud-detector:1.0");
    expect(bad.code).toBe(13);
    expect(bad.stderr).toMatch(/^ {2}version_id: /m);
    expect((await cli("versions", "list", "ghost")).code).toBe(15);
    expect((await cli("versions", "create", "ghost")).code).toBe(15);
  });
});
