import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Framework, Lifecycle, ModelSchema, VersionSchema, VersionState } from "@modelreg/sdk";
import { describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { createOutput, metricColumns, renderModel, renderModelsTable, renderVersion, renderVersionsTable, time } from "./output.js";

const t = timestampFromMs(Date.UTC(2026, 2, 1, 12, 30, 15, 250));
const fraud = create(ModelSchema, {
  name: "workspaces/default/models/fraud-detector",
  uid: "11111111-1111-4111-8111-111111111111",
  description: "card fraud\nsecond line",
  labels: { team: "risk", tier: "gold" },
  createTime: t,
  updateTime: t,
  etag: "e1",
  versionCount: 3n,
  latestVersion: "1.2.0",
  aliases: [
    { alias: "production", version: "1.2.0" },
    { alias: "staging", version: "1.1.0" },
  ],
});
const empty = create(ModelSchema, { name: "workspaces/default/models/churn", uid: "u2", etag: "e2" });
const v = create(VersionSchema, {
  name: "workspaces/default/models/fraud-detector/versions/1.2.0",
  uid: "22222222-2222-4222-8222-222222222222",
  version: "1.2.0",
  description: "x".repeat(60),
  labels: { dataset: "2026-10", f1: "0.88" },
  createTime: t,
  updateTime: t,
  etag: "e3",
  model: "workspaces/default/models/fraud-detector",
  modelUid: fraud.uid,
});

describe("table output", () => {
  it("lists models with NAME, LATEST, VERSIONS, ALIASES, DESCRIPTION, UPDATED", () => {
    const lines = renderModelsTable([fraud, empty]).split("\n");
    expect(lines[0]).toMatch(/^NAME\s+LATEST\s+VERSIONS\s+ALIASES\s+DESCRIPTION\s+UPDATED$/);
    expect(lines[1]).toMatch(/^fraud-detector\s+1\.2\.0\s+3\s+production=1\.2\.0,staging=1\.1\.0\s+card fraud second line\s+2026-03-01T12:30:15Z$/);
    expect(lines[2]).toMatch(/^churn\s+-\s+0\s+-\s+-\s+-$/);
    expect(lines).toHaveLength(3);
    // Columns line up.
    expect(lines[1]!.indexOf("1.2.0")).toBe(lines[0]!.indexOf("LATEST"));
  });

  it("lists versions with VERSION, STATE, FRAMEWORK, metrics, ALIASES, LABELS, CREATED", () => {
    const [head, row] = renderVersionsTable([v]).split("\n");
    expect(head).toMatch(/^VERSION\s+STATE\s+FRAMEWORK\s+ALIASES\s+LABELS\s+CREATED$/);
    expect(row).toMatch(/^1\.2\.0\s+-\s+-\s+-\s+dataset=2026-10,f1=0\.88\s+2026-03-01T12:30:15Z$/);
  });

  it("shows up to 3 metric columns: those the query names first, then the most common", () => {
    const rich = (version: string, metrics: Record<string, number>, extra: object = {}) =>
      create(VersionSchema, { ...v, version, metrics, framework: Framework.XGBOOST, state: VersionState.READY, ...extra });
    const vs = [
      rich("1.3.0", { f1: 0.91234, recall: 0.9, auc: 0.95, loss: 0.1 }, { aliases: ["production", "staging"] }),
      rich("1.2.0", { f1: 0.88, recall: 0.8, loss: 0.2 }, { lifecycle: Lifecycle.ARCHIVED }),
      rich("1.1.0", { recall: 0.7 }, { model: "workspaces/default/models/churn" }),
    ];
    const [head, ...rows] = renderVersionsTable(vs).split("\n");
    expect(head).toMatch(/^VERSION\s+STATE\s+FRAMEWORK\s+RECALL\s+F1\s+LOSS\s+ALIASES\s+LABELS\s+CREATED$/);
    expect(rows[0]).toMatch(/^1\.3\.0\s+ready\s+xgboost\s+0\.9\s+0\.9123\s+0\.1\s+production,staging\s/);
    expect(rows[1]).toMatch(/^1\.2\.0\s+ready \(archived\)\s+xgboost\s+0\.8\s+0\.88\s+0\.2\s+-\s/);
    expect(rows[2]).toMatch(/^1\.1\.0\s+ready\s+xgboost\s+0\.7\s+-\s+-\s/);
    const [byAuc] = renderVersionsTable(vs, { metrics: ["auc", "f1"], acrossModels: true }).split("\n");
    expect(byAuc).toMatch(/^MODEL:VERSION\s+STATE\s+FRAMEWORK\s+AUC\s+F1\s+RECALL\s+ALIASES/);
    expect(renderVersionsTable(vs, { acrossModels: true }).split("\n")[3]).toMatch(/^churn:1\.1\.0\s/);
    expect(metricColumns(vs, ["ghost"])).toEqual(["recall", "f1", "loss"]);
  });

  it("has no ANSI codes when stdout is not a terminal", () => {
    const b = bufferIo();
    createOutput("table", b.io).models([fraud], "default");
    expect(b.stdout).not.toMatch(/\x1b\[/);
    expect(b.stdout.endsWith("\n")).toBe(true);
  });

  it("shows one resource as key/value lines", () => {
    const text = renderModel(fraud);
    expect(text).toContain("Name:           workspaces/default/models/fraud-detector");
    expect(text).toMatch(/Description:\s+card fraud\n\s+second line/);
    expect(text).toMatch(/Labels:\s+team=risk\n\s+tier=gold/);
    expect(text).toMatch(/Latest version:\s+1\.2\.0/);
    expect(text).toMatch(/Etag:\s+e1/);
    expect(renderModel(empty)).toMatch(/Description:\s+-/);
    const vt = renderVersion(v);
    expect(vt).toMatch(/^Name:\s+workspaces\/default\/models\/fraud-detector\/versions\/1\.2\.0$/m);
    expect(vt).toMatch(/^Version:\s+1\.2\.0$/m);
    expect(vt).toMatch(/^Model uid:\s+11111111/m);
  });

  it("says so on stderr when a list is empty, keeping stdout clean", () => {
    const b = bufferIo();
    createOutput("table", b.io).models([], "default");
    createOutput("table", b.io).versions([], "workspaces/default/models/m");
    expect(b.stdout).toBe("");
    expect(b.stderr).toBe("no models in workspace default\nno versions of workspaces/default/models/m\n");
  });

  it("confirms a delete in one line", () => {
    const b = bufferIo();
    createOutput("table", b.io).deleted("model", "workspaces/default/models/m", "(with its versions)");
    expect(b.stdout).toBe("deleted model workspaces/default/models/m (with its versions)\n");
  });

  it("formats times in UTC to the second", () => {
    expect(time(t)).toBe("2026-03-01T12:30:15Z");
    expect(time(undefined)).toBe("-");
  });
});

describe("json output", () => {
  it("prints one proto-JSON object for one resource, with every field present", () => {
    const b = bufferIo();
    createOutput("json", b.io).model(empty);
    const obj = JSON.parse(b.stdout);
    expect(obj).toMatchObject({ name: "workspaces/default/models/churn", uid: "u2", latestVersion: "", versionCount: "0", labels: {} });
    expect(createOutput("json", bufferIo().io).format).toBe("json");
  });

  it("prints a JSON array for a list (also when empty)", () => {
    const b = bufferIo();
    const out = createOutput("json", b.io);
    out.versions([v], "m");
    out.models([], "default");
    const [first, second] = b.stdout.trim().split(/\n(?=\[)/);
    const list = JSON.parse(first!);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ version: "1.2.0", labels: { dataset: "2026-10" }, createTime: "2026-03-01T12:30:15.250Z", modelUid: fraud.uid });
    expect(JSON.parse(second!)).toEqual([]);
    expect(b.stderr).toBe("");
  });

  it("prints {} for a delete", () => {
    const b = bufferIo();
    createOutput("json", b.io).deleted("version", "x");
    expect(b.stdout).toBe("{}\n");
  });
});
