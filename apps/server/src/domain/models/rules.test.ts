// The rules of models, without a database.
import { describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../shared/errors.js";
import { checkCreate, checkDelete, checkList, checkUpdate } from "./rules.js";
import { violatedFields } from "../../testing/violations.js";

const fields = { description: "", labels: {} };

describe("create", () => {
  it("answers the workspace of a good request", () => {
    expect(checkCreate("workspaces/team-a", "fraud-detector", fields, "retry-1")).toEqual({ workspace: "team-a" });
  });
  it("names every bad field at once", () => {
    expect(violatedFields(() => checkCreate("teams/a", "1bad", { description: "x".repeat(1001), labels: { "Bad Key": "v" } }, "no spaces"))).toEqual([
      "parent",
      "model_id",
      "model.description",
      `model.labels["Bad Key"]`,
      "request_id",
    ]);
  });
});

describe("list", () => {
  it("orders by name by default, and by version_count, create_time or update_time on request", () => {
    expect(checkList("workspaces/w", { pageSize: 0, pageToken: "" }).order).toEqual({ field: "name", desc: false });
    expect(checkList("workspaces/w", { pageSize: 0, pageToken: "", orderBy: "version_count desc" }).order).toMatchObject({ field: "version_count", desc: true });
  });
  it("refuses other orders, bad filters and pages too large", () => {
    expect(violatedFields(() => checkList("workspaces/w", { pageSize: 0, pageToken: "", orderBy: "description" }))).toEqual(["order_by"]);
    expect(violatedFields(() => checkList("workspaces/w", { pageSize: 0, pageToken: "", filter: "name =" }))).toEqual(["filter"]);
    expect(violatedFields(() => checkList("workspaces/w", { pageSize: -1, pageToken: "" }))).toEqual(["page_size"]);
  });
});

describe("update", () => {
  it("checks only the fields in the mask", () => {
    expect([...checkUpdate(["labels"], { description: "bell\x07", labels: { a: "b" } })]).toEqual(["labels"]);
    expect(violatedFields(() => checkUpdate(["description"], { description: "bell\x07", labels: {} }))).toEqual(["model.description"]);
  });
  it("wants a mask of updatable fields", () => {
    expect(violatedFields(() => checkUpdate([], fields))).toEqual(["update_mask"]);
    expect(violatedFields(() => checkUpdate(["name"], fields))).toEqual(["update_mask"]);
    expect([...checkUpdate(["*"], fields)]).toEqual(["description", "labels"]);
  });
});

describe("delete", () => {
  it("refuses a model with versions unless forced", () => {
    expect(() => checkDelete("workspaces/w/models/m", 0, false)).not.toThrow();
    expect(() => checkDelete("workspaces/w/models/m", 3, true)).not.toThrow();
    const refusal = (() => {
      try {
        checkDelete("workspaces/w/models/m", 3, false);
      } catch (e) {
        return e;
      }
    })();
    expect(refusal).toBeInstanceOf(FailedPreconditionError);
    expect(refusal).toMatchObject({ reason: "MODEL_HAS_VERSIONS", metadata: { resource: "workspaces/w/models/m", version_count: "3" } });
  });
});
