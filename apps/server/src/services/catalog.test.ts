// The model and version catalog through the real router and the SDK, on
// both databases: happy paths, every error code, paging and concurrency.
import { afterAll, beforeAll, expect, it } from "vitest";
import { Code, ExportFormat } from "@modelreg/sdk";
import { models, versions } from "@modelreg/db";
import { eq } from "drizzle-orm";
import { parseSemver } from "../domain/shared/semver.js";
import { describeEachDatabase } from "@modelreg/db/testing";
import { failure } from "../testing/failure.js";
import { createTestApp, type TestApp } from "../testing/test-app.js";


describeEachDatabase("catalog", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  }, 60_000);
  afterAll(async () => t?.close());

  const ws = "workspaces/default";

  it("creates, gets, lists, updates and deletes a model", async () => {
    const { models } = t.client;
    const { model } = await models.createModel({ parent: ws, modelId: "Fraud-Detector", model: { description: "card fraud", labels: { team: "risk" } } });
    expect(model).toMatchObject({ name: `${ws}/models/Fraud-Detector`, description: "card fraud", labels: { team: "risk" }, versionCount: 0n, latestVersion: "" });
    expect(model!.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(model!.etag).not.toBe("");

    // Case-insensitive lookup, canonical spelling in the answer.
    const got = await models.getModel({ name: `${ws}/models/fraud-detector` });
    expect(got.model!.name).toBe(`${ws}/models/Fraud-Detector`);

    const updated = await models.updateModel({ model: { name: model!.name, description: "v2", etag: model!.etag }, updateMask: { paths: ["description"] } });
    expect(updated.model).toMatchObject({ description: "v2", labels: { team: "risk" } });
    expect(updated.model!.etag).not.toBe(model!.etag);

    // Stale etag -> Aborted, naming the current one.
    const stale = await failure(models.updateModel({ model: { name: model!.name, description: "v3", etag: model!.etag }, updateMask: { paths: ["description"] } }));
    expect(stale.code).toBe(Code.Aborted);
    expect(stale.reason).toBe("ETAG_MISMATCH");
    expect(stale.metadata.current_etag).toBe(updated.model!.etag);

    await models.deleteModel({ name: model!.name, etag: updated.model!.etag });
    expect((await failure(models.getModel({ name: model!.name }))).code).toBe(Code.NotFound);
  });

  it("refuses duplicates case-insensitively", async () => {
    await t.client.models.createModel({ parent: ws, modelId: "dup" });
    const e = await failure(t.client.models.createModel({ parent: ws, modelId: "DUP" }));
    expect(e.code).toBe(Code.AlreadyExists);
    expect(e.message).toContain("workspaces/default/models/DUP already exists");
  });

  it("answers bad input with InvalidArgument naming every bad field", async () => {
    const e = await failure(
      t.client.models.createModel({ parent: "nope", modelId: "1bad", model: { description: "x".repeat(1001), labels: { "Bad Key": "v" } } }),
    );
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.fieldViolations.map((v) => v.field).sort()).toEqual(["model.description", 'model.labels["Bad Key"]', "model_id", "parent"]);
    expect(e.message).not.toMatch(/select|insert|postgres|at .*\.ts/i);

    const mask = await failure(t.client.models.updateModel({ model: { name: `${ws}/models/dup` }, updateMask: { paths: ["uid"] } }));
    expect(mask.fieldViolations[0]).toEqual({ field: "update_mask", description: expect.stringContaining('"uid" cannot be updated') });
    const empty = await failure(t.client.models.updateModel({ model: { name: `${ws}/models/dup` } }));
    expect(empty.fieldViolations[0]!.field).toBe("update_mask");

    expect((await failure(t.client.versions.createVersion({ parent: `${ws}/models/dup`, versionId: "1.0" }))).fieldViolations[0]!.field).toBe("version_id");
    expect((await failure(t.client.versions.getVersion({}))).fieldViolations[0]!.field).toBe("ref");
    expect((await failure(t.client.versions.getVersion({ ref: { case: "uid", value: "x'; drop table versions;--" } }))).code).toBe(Code.InvalidArgument);
    expect((await failure(t.client.models.listModels({ parent: ws, pageSize: -1 }))).fieldViolations[0]!.field).toBe("page_size");
    expect((await failure(t.client.models.listModels({ parent: ws, pageToken: "forged" }))).fieldViolations[0]!.field).toBe("page_token");
  });

  it("answers NotFound for missing parents and versions", async () => {
    expect((await failure(t.client.models.createModel({ parent: "workspaces/ghost", modelId: "m" }))).code).toBe(Code.NotFound);
    expect((await failure(t.client.models.listModels({ parent: "workspaces/ghost" }))).code).toBe(Code.NotFound);
    expect((await failure(t.client.versions.createVersion({ parent: `${ws}/models/ghost` }))).code).toBe(Code.NotFound);
    expect((await failure(t.client.versions.listVersions({ parent: `${ws}/models/ghost` }))).code).toBe(Code.NotFound);
    expect((await failure(t.client.versions.getVersion({ ref: { case: "name", value: `${ws}/models/dup/versions/9.9.9` } }))).code).toBe(Code.NotFound);
    expect((await failure(t.client.versions.getVersion({ ref: { case: "uid", value: "00000000-0000-4000-8000-000000000000" } }))).code).toBe(Code.NotFound);
    expect((await failure(t.client.versions.deleteVersion({ name: `${ws}/models/dup/versions/9.9.9` }))).code).toBe(Code.NotFound);
  });

  it("says whether the model or the version is missing, in the message and in resource_type", async () => {
    const parent = (await t.client.models.createModel({ parent: ws, modelId: "named-miss" })).model!.name;
    const ghost = `${ws}/models/fraud-detectr`;
    const byName = (value: string) => t.client.versions.getVersion({ ref: { case: "name", value } });

    // No such model: every way of naming one of its versions says so.
    const misses = [
      () => byName(`${ghost}/versions/2.0.0`),
      () => byName(`${ghost}@production`),
      () => t.client.versions.updateVersion({ version: { name: `${ghost}/versions/2.0.0`, description: "x" }, updateMask: { paths: ["description"] } }),
      () => t.client.versions.deleteVersion({ name: `${ghost}/versions/2.0.0` }),
      () => t.client.files.listVersionFiles({ version: { case: "name", value: `${ghost}/versions/2.0.0` } }),
      () => t.client.exports.createExport({ parent: `${ghost}/versions/2.0.0`, format: ExportFormat.TAR }),
    ];
    for (const miss of misses) {
      const e = await failure(miss());
      expect(e.code).toBe(Code.NotFound);
      expect(e.message).toBe(`model ${ghost} not found`);
      expect(e.metadata).toEqual({ resource: ghost, resource_type: "model" });
    }

    // The model exists: the version, or the alias, is what is missing.
    const version = await failure(byName(`${parent}/versions/9.9.9`));
    expect(version).toMatchObject({ code: Code.NotFound, message: `version ${parent}/versions/9.9.9 not found`, metadata: { resource: `${parent}/versions/9.9.9`, resource_type: "version" } });
    const files = await failure(t.client.files.listVersionFiles({ version: { case: "name", value: `${parent}/versions/9.9.9` } }));
    expect(files.metadata.resource_type).toBe("version");
    const deleted = await failure(t.client.versions.deleteVersion({ name: `${parent}/versions/9.9.9` }));
    expect(deleted.metadata.resource_type).toBe("version");
    const alias = await failure(byName(`${parent}@production`));
    expect(alias).toMatchObject({ message: `alias ${parent}@production not found`, metadata: { resource: `${parent}@production`, resource_type: "alias" } });
    const uid = "00000000-0000-4000-8000-000000000000";
    expect(await failure(t.client.versions.getVersion({ ref: { case: "uid", value: uid } }))).toMatchObject({
      message: `version with uid ${uid} not found`,
      metadata: { resource: uid, resource_type: "version" },
    });
    expect((await failure(t.client.models.getModel({ name: ghost }))).metadata).toEqual({ resource: ghost, resource_type: "model" });
  });

  it("numbers versions automatically and sorts them by semver precedence", async () => {
    const parent = (await t.client.models.createModel({ parent: ws, modelId: "ranker" })).model!.name;
    const v1 = (await t.client.versions.createVersion({ parent })).version!;
    expect(v1).toMatchObject({ version: "1.0.0", name: `${parent}/versions/1.0.0`, model: parent });
    expect((await t.client.versions.createVersion({ parent })).version!.version).toBe("1.0.1");
    await t.client.versions.createVersion({ parent, versionId: "1.10.0" });
    await t.client.versions.createVersion({ parent, versionId: "1.9.0" });
    await t.client.versions.createVersion({ parent, versionId: "2.0.0-rc.1" });
    await t.client.versions.createVersion({ parent, versionId: "2.0.0-beta.11" });
    await t.client.versions.createVersion({ parent, versionId: "2.0.0-beta.2" });
    expect((await t.client.versions.createVersion({ parent })).version!.version).toBe("2.0.0");
    expect((await t.client.versions.createVersion({ parent })).version!.version).toBe("2.0.1");

    const all: string[] = [];
    for await (const v of t.client.listAllVersions(parent, { pageSize: 2 })) all.push(v.version);
    expect(all).toEqual(["2.0.1", "2.0.0", "2.0.0-rc.1", "2.0.0-beta.11", "2.0.0-beta.2", "1.10.0", "1.9.0", "1.0.1", "1.0.0"]);

    const model = (await t.client.models.getModel({ name: parent })).model!;
    expect(model).toMatchObject({ versionCount: 9n, latestVersion: "2.0.1" });

    // By uid, and the duplicate check.
    expect((await t.client.versions.getVersion({ ref: { case: "uid", value: v1.uid } })).version!.name).toBe(v1.name);
    const dup = await failure(t.client.versions.createVersion({ parent, versionId: "1.10.0" }));
    expect(dup.code).toBe(Code.AlreadyExists);
    expect(dup.message).toContain(`${parent}/versions/1.10.0 already exists`);

    // Deleting the latest moves "latest" down; the model refuses deletion while versions exist.
    await t.client.versions.deleteVersion({ name: `${parent}/versions/2.0.1` });
    expect((await t.client.models.getModel({ name: parent })).model).toMatchObject({ versionCount: 8n, latestVersion: "2.0.0" });
    // A deleted version's number is never handed out again.
    expect((await t.client.versions.createVersion({ parent })).version!.version).toBe("2.0.2");
    await t.client.versions.deleteVersion({ name: `${parent}/versions/2.0.2` });
    const busy = await failure(t.client.models.deleteModel({ name: parent }));
    expect(busy.code).toBe(Code.FailedPrecondition);
    expect(busy.reason).toBe("MODEL_HAS_VERSIONS");
    await t.client.models.deleteModel({ name: parent, force: true });
    expect((await failure(t.client.versions.getVersion({ ref: { case: "uid", value: v1.uid } }))).code).toBe(Code.NotFound);
  });

  it("stores the same sort keys from the one-statement SQL numbering as the domain computes", async () => {
    const parent = (await t.client.models.createModel({ parent: ws, modelId: "keys" })).model!.name;
    await t.client.versions.createVersion({ parent, versionId: "1.0.9" });
    await t.client.versions.createVersion({ parent, versionId: "0.9.99999" }); // lower: moves nothing
    expect((await t.client.versions.createVersion({ parent })).version!.version).toBe("1.0.10");
    await t.client.versions.createVersion({ parent, versionId: "9.99.99-rc.1" });
    expect((await t.client.versions.createVersion({ parent })).version!.version).toBe("9.99.99");
    expect((await t.client.versions.createVersion({ parent })).version!.version).toBe("9.99.100");
    const rows = await t.database.db.select({ version: versions.version, sortKey: versions.sortKey }).from(versions).innerJoin(models, eq(models.id, versions.modelId)).where(eq(models.name, "keys"));
    expect(rows).toHaveLength(6);
    for (const r of rows) expect(r.sortKey, r.version).toBe(parseSemver(r.version).sortKey);
    const listed = (await t.client.versions.listVersions({ parent })).versions.map((v) => v.version);
    expect(listed).toEqual(["9.99.100", "9.99.99", "9.99.99-rc.1", "1.0.10", "1.0.9", "0.9.99999"]);
  });

  it("updates a version with update_mask and etag", async () => {
    const parent = (await t.client.models.createModel({ parent: ws, modelId: "upd" })).model!.name;
    const v = (await t.client.versions.createVersion({ parent, version: { description: "first", labels: { a: "1" } } })).version!;
    const u = (await t.client.versions.updateVersion({ version: { name: v.name, labels: { b: "2" }, etag: v.etag }, updateMask: { paths: ["labels"] } })).version!;
    expect(u).toMatchObject({ description: "first", labels: { b: "2" } });
    const e = await failure(t.client.versions.deleteVersion({ name: v.name, etag: v.etag }));
    expect(e.code).toBe(Code.Aborted);
    await t.client.versions.deleteVersion({ name: v.name, etag: u.etag });
  });

  it("gives 32 parallel auto-numbered creates 32 distinct versions", async () => {
    const parent = (await t.client.models.createModel({ parent: ws, modelId: "race" })).model!.name;
    const created = await Promise.all(Array.from({ length: 32 }, () => t.client.versions.createVersion({ parent })));
    const ids = created.map((r) => r.version!.version);
    expect(new Set(ids).size).toBe(32);
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 32 }, (_, i) => `1.0.${i}`)));
    expect((await t.client.models.getModel({ name: parent })).model).toMatchObject({ versionCount: 32n, latestVersion: "1.0.31" });
  });

  it("pages models with keyset tokens bound to their parent", async () => {
    for (const id of ["page-c", "page-a", "page-b"]) await t.client.models.createModel({ parent: ws, modelId: id });
    const first = await t.client.models.listModels({ parent: ws, pageSize: 1 });
    expect(first.models).toHaveLength(1);
    expect(first.nextPageToken).not.toBe("");
    const names: string[] = [];
    for await (const m of t.client.listAllModels({ pageSize: 2 })) names.push(m.name.split("/").pop()!);
    expect(names.filter((n) => n.startsWith("page-"))).toEqual(["page-a", "page-b", "page-c"]);
    expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  });
});
