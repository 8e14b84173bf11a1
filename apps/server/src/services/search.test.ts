// Searching versions and models through the real router, on both databases:
// the filter grammar over version fields, orderings (semver, creation,
// metrics with the metric-less last), lists across models, page tokens bound
// to their query, injection attempts, and paging that returns every row
// exactly once while rows are inserted.
import { Code, Framework, Lifecycle, type Version } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDatabase } from "@modelreg/db/testing";
import { failure } from "../testing/failure.js";
import { createTestApp, type TestApp } from "../testing/test-app.js";

describeEachDatabase("search", (kind) => {
  let t: TestApp;
  const ws = "workspaces/default";
  const all = `${ws}/models/-`;
  beforeAll(async () => {
    t = await createTestApp(kind);
    for (const m of ["alpha", "beta"]) await t.client.models.createModel({ parent: ws, modelId: m, model: { labels: { team: m === "alpha" ? "risk" : "ads" } } });
    const rows: [string, string, Record<string, number>, Record<string, string>, Framework][] = [
      ["alpha", "1.0.0", { f1: 0.8, accuracy: 0.9 }, { dataset: "2026-09" }, Framework.XGBOOST],
      ["alpha", "1.1.0", { f1: 0.87 }, { dataset: "2026-10" }, Framework.XGBOOST],
      ["alpha", "2.0.0-rc.1", { f1: 0.91 }, { dataset: "2026-10", note: "it's \"quoted\"; DROP TABLE versions;--" }, Framework.PYTORCH],
      ["alpha", "1.10.0", {}, { dataset: "2026-10" }, Framework.PYTORCH],
      ["beta", "0.1.0", { f1: 0.95 }, { dataset: "2026-10", lang: "日本語" }, Framework.ONNX],
      ["beta", "0.2.0", { f1: 0.5 }, {}, Framework.UNSPECIFIED],
    ];
    for (const [model, versionId, metrics, labels, framework] of rows)
      await t.client.versions.createVersion({ parent: `${ws}/models/${model}`, versionId, version: { metrics, labels, framework, lineage: { dataVersion: labels.dataset ?? "" } } });
    const old = (await t.client.versions.createVersion({ parent: `${ws}/models/alpha`, versionId: "0.0.1", version: { metrics: { f1: 0.99 } } })).version!;
    await t.client.versions.updateVersion({ version: { name: old.name, lifecycle: Lifecycle.ARCHIVED }, updateMask: { paths: ["lifecycle"] } });
  }, 60_000);
  afterAll(async () => t?.close());

  const ids = (vs: Version[]) => vs.map((v) => `${v.model.split("/").pop()}:${v.version}`);
  const list = async (parent: string, filter = "", orderBy = "", pageSize = 0) => ids((await t.client.versions.listVersions({ parent, filter, orderBy, pageSize })).versions);

  it("filters by metrics, labels, enums and lineage, in one model or across models", async () => {
    expect(await list(`${ws}/models/alpha`, 'metrics.f1 > 0.85 AND labels.dataset = "2026-10"', "metrics.f1 desc")).toEqual(["alpha:2.0.0-rc.1", "alpha:1.1.0"]);
    expect(await list(all, 'metrics.f1 > 0.85 AND labels.dataset = "2026-10"', "metrics.f1 desc")).toEqual(["beta:0.1.0", "alpha:2.0.0-rc.1", "alpha:1.1.0"]);
    expect(await list(all, "framework = pytorch", "version desc")).toEqual(["alpha:2.0.0-rc.1", "alpha:1.10.0"]);
    expect(await list(all, "framework = PYTORCH OR framework = ONNX", "create_time")).toEqual(["alpha:2.0.0-rc.1", "alpha:1.10.0", "beta:0.1.0"]);
    expect(await list(all, 'data_version = "2026-09"')).toEqual(["alpha:1.0.0"]);
    expect(await list(all, "NOT labels:dataset")).toEqual(["beta:0.2.0"]);
    expect(await list(all, 'model = "beta" AND metrics.f1 < 0.6')).toEqual(["beta:0.2.0"]);
    expect(await list(all, 'labels.dataset != "2026-10"', "create_time")).toEqual(["alpha:1.0.0", "beta:0.2.0"]);
    expect(await list(all, "state = PENDING AND file_count = 0", "create_time", 2)).toEqual(["alpha:1.0.0", "alpha:1.1.0"]);
  });

  it("orders by semver, creation and metrics, with versions lacking the metric last", async () => {
    expect(await list(`${ws}/models/alpha`)).toEqual(["alpha:2.0.0-rc.1", "alpha:1.10.0", "alpha:1.1.0", "alpha:1.0.0"]);
    expect(await list(`${ws}/models/alpha`, "", "version")).toEqual(["alpha:1.0.0", "alpha:1.1.0", "alpha:1.10.0", "alpha:2.0.0-rc.1"]);
    expect(await list(`${ws}/models/alpha`, "", "metrics.f1 desc")).toEqual(["alpha:2.0.0-rc.1", "alpha:1.1.0", "alpha:1.0.0", "alpha:1.10.0"]);
    expect(await list(`${ws}/models/alpha`, "", "metrics.f1 asc")).toEqual(["alpha:1.0.0", "alpha:1.1.0", "alpha:2.0.0-rc.1", "alpha:1.10.0"]);
    // The versions without the metric follow in creation order, in the same direction.
    expect(await list(all, "", "metrics.accuracy desc")).toEqual(["alpha:1.0.0", "beta:0.2.0", "beta:0.1.0", "alpha:1.10.0", "alpha:2.0.0-rc.1", "alpha:1.1.0"]);
    // Newest first across models by default.
    expect((await list(all))[0]).toBe("beta:0.2.0");
  });

  it("pages through every ordering, the metric phases included, each row once", async () => {
    for (const orderBy of ["", "version", "create_time desc", "update_time", "metrics.f1 desc", "metrics.f1"]) {
      const whole = await list(all, "", orderBy);
      const paged: string[] = [];
      let pageToken = "";
      do {
        const res = await t.client.versions.listVersions({ parent: all, orderBy, pageSize: 2, pageToken });
        paged.push(...ids(res.versions));
        pageToken = res.nextPageToken;
      } while (pageToken);
      expect(paged, orderBy).toEqual(whole);
    }
  });

  it("hides archived versions unless the filter names lifecycle", async () => {
    expect(await list(`${ws}/models/alpha`, "metrics.f1 > 0.95")).toEqual([]);
    expect(await list(`${ws}/models/alpha`, "lifecycle = ARCHIVED")).toEqual(["alpha:0.0.1"]);
    expect(await list(`${ws}/models/alpha`, "lifecycle:*")).toHaveLength(5);
  });

  it("matches quotes, semicolons and unicode literally, and refuses what does not parse with its position", async () => {
    expect(await list(all, `labels.note = 'it\\'s "quoted"; DROP TABLE versions;--'`)).toEqual(["alpha:2.0.0-rc.1"]);
    expect(await list(all, 'labels.lang = "日本語"')).toEqual(["beta:0.1.0"]);
    expect(await list(all, `labels.note = "x' OR '1'='1"`)).toEqual([]);
    expect(await list(all, 'labels."; DROP TABLE versions;--" = "x"').catch(() => "refused")).toBe("refused");
    const bad = await failure(t.client.versions.listVersions({ parent: all, filter: "metrics.f1 >> 0.5" }));
    expect([bad.code, bad.fieldViolations[0]!.field]).toEqual([Code.InvalidArgument, "filter"]);
    expect(bad.fieldViolations[0]!.description).toMatch(/^at position \d+/);
    const unknown = await failure(t.client.versions.listVersions({ parent: all, filter: "colour = red" }));
    expect(unknown.fieldViolations[0]!.description).toMatch(/unknown field "colour"/);
    expect((await failure(t.client.versions.listVersions({ parent: all, filter: 'metrics.f1 > "high"' }))).code).toBe(Code.InvalidArgument);
    expect((await failure(t.client.versions.listVersions({ parent: all, orderBy: "labels.team" }))).fieldViolations[0]!.field).toBe("order_by");
    expect((await failure(t.client.versions.listVersions({ parent: all, orderBy: "metrics.f1 sideways" }))).fieldViolations[0]!.field).toBe("order_by");
    // Still all there.
    expect(await list(all, "lifecycle:*")).toHaveLength(7);
  });

  it("binds page tokens to their query", async () => {
    const first = await t.client.versions.listVersions({ parent: all, pageSize: 1, filter: "metrics.f1 > 0" });
    const other = await failure(t.client.versions.listVersions({ parent: all, pageSize: 1, filter: "metrics.f1 > 0.1", pageToken: first.nextPageToken }));
    expect([other.code, other.fieldViolations[0]!.field]).toEqual([Code.InvalidArgument, "page_token"]);
    expect((await failure(t.client.versions.listVersions({ parent: all, pageSize: 1, filter: "metrics.f1 > 0", orderBy: "version", pageToken: first.nextPageToken }))).code).toBe(
      Code.InvalidArgument,
    );
    expect((await failure(t.client.versions.listVersions({ parent: `${ws}/models/alpha`, pageSize: 1, filter: "metrics.f1 > 0", pageToken: first.nextPageToken }))).code).toBe(
      Code.InvalidArgument,
    );
  });

  it("filters and orders models", async () => {
    const names = async (filter: string, orderBy = "") => (await t.client.models.listModels({ parent: ws, filter, orderBy })).models.map((m) => m.name.split("/").pop());
    expect(await names('labels.team = "risk"')).toEqual(["alpha"]);
    expect(await names("version_count >= 2", "version_count desc")).toEqual(["alpha", "beta"]);
    expect(await names("", "create_time desc")).toEqual(["beta", "alpha"]);
    expect((await failure(t.client.models.listModels({ parent: ws, filter: "team = risk" }))).code).toBe(Code.InvalidArgument);
    // Paging by a time keeps its microseconds (a millisecond token would repeat rows).
    for (const orderBy of ["create_time", "update_time desc", "version_count", "name desc"]) {
      const whole = await names("", orderBy);
      const paged: (string | undefined)[] = [];
      let pageToken = "";
      do {
        const res = await t.client.models.listModels({ parent: ws, orderBy, pageSize: 1, pageToken });
        paged.push(...res.models.map((m) => m.name.split("/").pop()));
        pageToken = res.nextPageToken;
      } while (pageToken);
      expect(paged, orderBy).toEqual(whole);
    }
  });

  it("returns every row exactly once while rows are inserted during paging", async () => {
    await t.client.models.createModel({ parent: ws, modelId: "busy" });
    const parent = `${ws}/models/busy`;
    for (let i = 0; i < 30; i++) await t.client.versions.createVersion({ parent, version: { metrics: { f1: (i % 7) / 10 } } });
    for (const orderBy of ["create_time", "metrics.f1 desc", "version"]) {
      const before = new Set((await t.client.versions.listVersions({ parent, pageSize: 1000 })).versions.map((v) => v.uid));
      const seen: string[] = [];
      let pageToken = "";
      let inserted = 0;
      do {
        const res = await t.client.versions.listVersions({ parent, orderBy, pageSize: 4, pageToken });
        seen.push(...res.versions.map((v) => v.uid));
        pageToken = res.nextPageToken;
        if (inserted < 10) {
          await t.client.versions.createVersion({ parent, version: { metrics: { f1: Math.random() } } });
          inserted++;
        }
      } while (pageToken);
      expect(new Set(seen).size, orderBy).toBe(seen.length);
      for (const uid of before) expect(seen, orderBy).toContain(uid);
    }
  });
});
