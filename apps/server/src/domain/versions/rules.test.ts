// The rules of versions, without a database.
import { Lifecycle } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../shared/errors.js";
import { parseFilter } from "../shared/filter/index.js";
import { EMPTY_METADATA } from "./metadata.js";
import { checkArchivable, checkCreate, checkList, checkUid, checkUpdate, mentions, mergeMetadata } from "./rules.js";
import { NO_LINEAGE, type VersionFields } from "./types.js";
import { violatedFields } from "../../testing/violations.js";

const fields: VersionFields = { description: "", labels: {}, metadata: EMPTY_METADATA, lifecycle: 0 };


describe("create", () => {
  it("answers the model and the fields in stored form", () => {
    const route = { url: "/predict", method: "post", protocol: "HTTPS" };
    const { model, fields: stored } = checkCreate("workspaces/w/models/m", "1.2.0", { ...fields, metadata: { ...EMPTY_METADATA, interface: { inputs: [], outputs: [], apis: [route] } } }, NO_LINEAGE, "");
    expect(model).toMatchObject({ workspace: "w", model: "m" });
    expect(stored.metadata.interface?.apis[0]).toMatchObject({ method: "POST", protocol: "https" });
  });
  it("names every bad field at once", () => {
    const lineage = { ...NO_LINEAGE, sourceLocation: "not a uri", sourceTask: "tasks/7", sourceType: "bad type!" };
    expect(
      violatedFields(() => checkCreate("workspaces/w", "v1..2", { ...fields, lifecycle: 9, metadata: { ...EMPTY_METADATA, runtime: "a b" } }, lineage, "a b")).sort(),
    ).toEqual(["parent", "request_id", "version.lifecycle", "version.lineage.source_location", "version.lineage.source_task", "version.lineage.source_type", "version.runtime", "version_id"]);
  });
  it("takes lineage URIs of any scheme and task names of this registry", () => {
    const lineage = { ...NO_LINEAGE, sourceLocation: "s3://bucket/run-42/", sourceTask: "workspaces/w/tasks/train-7" };
    expect(violatedFields(() => checkCreate("workspaces/w/models/m", "", fields, lineage, ""))).toEqual([]);
  });
});

it("wants a UUID as a uid", () => {
  expect(() => checkUid("0190b6d2-7a1c-4c55-9e0e-6f1b2c3d4e5f")).not.toThrow();
  expect(violatedFields(() => checkUid("42"))).toEqual(["uid"]);
});

describe("list", () => {
  it("lists within a model newest version first, and across a workspace newest created first", () => {
    expect(checkList("workspaces/w/models/m", { pageSize: 0, pageToken: "" })).toMatchObject({ workspace: "w", model: { model: "m" }, order: { field: "version", desc: true } });
    const across = checkList("workspaces/w/models/-", { pageSize: 0, pageToken: "" });
    expect(across).toMatchObject({ workspace: "w", model: undefined, order: { field: "create_time", desc: true } });
  });
  it("orders by a metric", () => {
    expect(checkList("workspaces/w/models/m", { pageSize: 0, pageToken: "", orderBy: "metrics.accuracy desc" }).order).toMatchObject({ field: "metrics", key: "accuracy", desc: true });
  });
  it("refuses a bad parent, order or filter", () => {
    expect(violatedFields(() => checkList("workspaces/W/models/-", { pageSize: 0, pageToken: "" }))).toEqual(["parent"]);
    expect(violatedFields(() => checkList("workspaces/w/models/m", { pageSize: 0, pageToken: "", orderBy: "labels" }))).toEqual(["order_by"]);
    expect(violatedFields(() => checkList("workspaces/w/models/m", { pageSize: 0, pageToken: "", filter: "state = " }))).toEqual(["filter"]);
  });
  it("tells whether a filter asks about a field (archived versions are listed only then)", () => {
    expect(mentions(parseFilter('labels.team = "a" AND NOT (lifecycle = ARCHIVED)'), "lifecycle")).toBe(true);
    expect(mentions(parseFilter('labels.team = "a" OR state = READY'), "lifecycle")).toBe(false);
    expect(mentions(parseFilter(""), "lifecycle")).toBe(false);
  });
});

describe("update", () => {
  it("checks only the masked fields and keeps only their metadata", () => {
    const u = checkUpdate(["runtime"], { ...fields, description: "bell\x07", metadata: { ...EMPTY_METADATA, runtime: "python3.11", algorithm: "a b" } });
    expect(u.metadataMask).toEqual(["runtime"]);
    expect(u.masked).toMatchObject({ runtime: "python3.11", algorithm: "" });
  });
  it("wants a lifecycle when the mask names it", () => {
    expect(violatedFields(() => checkUpdate(["lifecycle"], fields))).toEqual(["version.lifecycle"]);
    expect(violatedFields(() => checkUpdate(["lifecycle"], { ...fields, lifecycle: Lifecycle.ARCHIVED }))).toEqual([]);
  });
  it("lays the masked metadata over what is stored", () => {
    const stored = { ...EMPTY_METADATA, runtime: "python3.10", algorithm: "xgboost", metrics: { auc: 0.9 } };
    const u = checkUpdate(["runtime", "metrics"], { ...fields, metadata: { ...EMPTY_METADATA, runtime: "python3.11", algorithm: "ignored", metrics: {} } });
    expect(mergeMetadata(stored, u)).toMatchObject({ runtime: "python3.11", algorithm: "xgboost", metrics: {} });
  });
});

it("refuses to archive a version that aliases point at", () => {
  expect(() => checkArchivable("workspaces/w/models/m/versions/1.0.0", Lifecycle.ARCHIVED, [])).not.toThrow();
  expect(() => checkArchivable("workspaces/w/models/m/versions/1.0.0", Lifecycle.ACTIVE, ["prod"])).not.toThrow();
  expect(() => checkArchivable("workspaces/w/models/m/versions/1.0.0", Lifecycle.ARCHIVED, ["prod", "staging"])).toThrow(FailedPreconditionError);
  expect(() => checkArchivable("workspaces/w/models/m/versions/1.0.0", Lifecycle.ARCHIVED, ["prod"])).toThrow(/@prod point at/);
});
