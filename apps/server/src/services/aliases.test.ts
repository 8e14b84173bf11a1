// Aliases through the real router, on both databases: set, move, resolve
// `model@alias` wherever a version is named, protection by role, lifecycle
// rules, and no gap for readers while an alias moves.
import { Code, Lifecycle, Role, VersionState } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDatabase } from "@modelreg/db/testing";
import { failure } from "../testing/failure.js";
import { createTestApp, type TestApp } from "../testing/test-app.js";

describeEachDatabase("aliases", (kind) => {
  let t: TestApp;
  let editor: TestApp["client"];
  const ws = "workspaces/default";
  const model = `${ws}/models/fraud`;
  beforeAll(async () => {
    t = await createTestApp(kind, { auth: true });
    const key = await t.client.workspaces.createAccessKey({ parent: ws, accessKey: { user: "trainer", role: Role.EDITOR } });
    editor = t.clientWith(key.token);
    await t.client.models.createModel({ parent: ws, modelId: "fraud" });
    for (const id of ["1.0.0", "2.0.0", "3.0.0"]) await t.client.versions.createVersion({ parent: model, versionId: id });
  }, 60_000);
  afterAll(async () => t?.close());

  it("points, moves and resolves model@alias in GetVersion, the model and the version", async () => {
    const set = await editor.models.setAlias({ model, alias: "staging", version: "1.0.0" });
    expect(set.alias).toMatchObject({ alias: "staging", version: "1.0.0", protected: false });
    expect(set.version).toMatchObject({ version: "1.0.0", aliases: ["staging"] });
    expect((await editor.versions.getVersion({ ref: { case: "name", value: `${model}@staging` } })).version!.version).toBe("1.0.0");
    await editor.models.setAlias({ model, alias: "staging", version: "2.0.0", expectedVersion: "1.0.0" });
    expect((await editor.versions.getVersion({ ref: { case: "name", value: `${model}@staging` } })).version).toMatchObject({ version: "2.0.0", aliases: ["staging"] });
    expect((await editor.versions.getVersion({ ref: { case: "name", value: `${model}/versions/1.0.0` } })).version!.aliases).toEqual([]);
    expect((await editor.models.getModel({ name: model })).model!.aliases.map((a) => [a.alias, a.version])).toEqual([["staging", "2.0.0"]]);

    // Optimistic moves: expected_version must match ("-" = must not exist).
    const stale = await failure(editor.models.setAlias({ model, alias: "staging", version: "3.0.0", expectedVersion: "1.0.0" }));
    expect([stale.code, stale.message]).toEqual([Code.Aborted, expect.stringContaining("points at 2.0.0, not 1.0.0")]);
    expect((await failure(editor.models.setAlias({ model, alias: "staging", version: "3.0.0", expectedVersion: "-" }))).code).toBe(Code.Aborted);
    await editor.models.setAlias({ model, alias: "canary", version: "3.0.0", expectedVersion: "-" });

    expect((await failure(editor.versions.getVersion({ ref: { case: "name", value: `${model}@nope` } }))).code).toBe(Code.NotFound);
    expect((await failure(editor.models.setAlias({ model, alias: "Bad Alias", version: "1.0.0" }))).fieldViolations[0]!.field).toBe("alias");
    expect((await failure(editor.models.setAlias({ model, alias: "x", version: "7.7.7" }))).code).toBe(Code.NotFound);
    expect((await failure(editor.versions.getVersion({ ref: { case: "name", value: `${model}@Bad!` } }))).code).toBe(Code.InvalidArgument);
    await editor.models.deleteAlias({ model, alias: "canary" });
    expect((await failure(editor.models.deleteAlias({ model, alias: "canary" }))).code).toBe(Code.NotFound);
  });

  it("lets only admins mark, move or delete a protected alias", async () => {
    const denied = await failure(editor.models.setAlias({ model, alias: "production", version: "1.0.0", protected: true }));
    expect(denied.code).toBe(Code.PermissionDenied);
    await t.client.models.setAlias({ model, alias: "production", version: "1.0.0", protected: true });
    expect((await failure(editor.models.setAlias({ model, alias: "production", version: "2.0.0" }))).code).toBe(Code.PermissionDenied);
    expect((await failure(editor.models.deleteAlias({ model, alias: "production" }))).code).toBe(Code.PermissionDenied);
    await t.client.models.setAlias({ model, alias: "production", version: "2.0.0", protected: true });
    expect((await editor.versions.getVersion({ ref: { case: "name", value: `${model}@production` } })).version!.version).toBe("2.0.0");
  });

  it("refuses aliases on archived versions, archiving an aliased version, and drops a deleted version's aliases", async () => {
    const { version } = await t.client.versions.createVersion({ parent: model, versionId: "0.9.0" });
    await t.client.versions.updateVersion({ version: { name: version!.name, lifecycle: Lifecycle.ARCHIVED }, updateMask: { paths: ["lifecycle"] } });
    const archived = await failure(editor.models.setAlias({ model, alias: "old", version: "0.9.0" }));
    expect([archived.code, archived.reason]).toEqual([Code.FailedPrecondition, "VERSION_ARCHIVED"]);
    const aliased = await failure(t.client.versions.updateVersion({ version: { name: `${model}@production`, lifecycle: Lifecycle.ARCHIVED }, updateMask: { paths: ["lifecycle"] } }));
    expect([aliased.code, aliased.reason, aliased.message]).toEqual([Code.FailedPrecondition, "VERSION_HAS_ALIASES", expect.stringContaining("@production")]);
    await editor.models.setAlias({ model, alias: "doomed", version: "3.0.0" });
    await t.client.versions.deleteVersion({ name: `${model}@doomed` });
    expect((await t.client.models.getModel({ name: model })).model!.aliases.map((a) => a.alias)).not.toContain("doomed");
    expect((await failure(t.client.versions.getVersion({ ref: { case: "name", value: `${model}/versions/3.0.0` } }))).code).toBe(Code.NotFound);
  });

  it("resolves aliases for file reads too", async () => {
    const name = `${model}@production`;
    await t.client.files.stageVersionFiles({ name, files: [] });
    const ready = (await t.client.files.commitVersionFiles({ name })).version!;
    expect([ready.version, ready.state, ready.aliases]).toEqual(["2.0.0", VersionState.READY, ["production", "staging"]]);
    expect((await t.client.files.listVersionFiles({ version: { case: "name", value: name } })).version).toBe(`${model}/versions/2.0.0`);
  });

  it("never leaves a reader without the alias while it moves", async () => {
    const ids = ["10.0.0", "10.0.1"];
    for (const id of ids) await t.client.versions.createVersion({ parent: model, versionId: id });
    await editor.models.setAlias({ model, alias: "champion", version: ids[0]! });
    // Bounded: 32 readers of 15 reads each, beside 30 moves.
    const seen = new Set<string>();
    let failures = 0;
    const reader = async () => {
      for (let i = 0; i < 15; i++) {
        try {
          seen.add((await editor.versions.getVersion({ ref: { case: "name", value: `${model}@champion` } })).version!.version);
        } catch {
          failures++;
        }
      }
    };
    const mover = async () => {
      for (let i = 1; i <= 30; i++) await editor.models.setAlias({ model, alias: "champion", version: ids[i % 2]! });
    };
    await Promise.all([mover(), ...Array.from({ length: 32 }, reader)]);
    expect(failures).toBe(0);
    expect([...seen].sort()).toEqual(ids);
  }, 60_000);
});
