// The rules of workspaces, without a database: ids, updates and deletion.
import { describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../shared/errors.js";
import { checkCreate, checkDeletable, checkEmpty, checkList, checkUpdate } from "./rules.js";
import { violationsOf } from "../../testing/violations.js";


describe("workspace ids", () => {
  it("are 1-63 lowercase letters, digits and '-', starting with a letter", () => {
    for (const id of ["a", "team-7", `a${"b".repeat(62)}`]) expect(violationsOf(() => checkCreate(id, ""))).toEqual([]);
    for (const id of ["", "7team", "Team", "a_b", `a${"b".repeat(63)}`])
      expect(violationsOf(() => checkCreate(id, "")), id).toEqual([{ field: "workspace_id", description: expect.stringMatching(/is not a valid workspace id: use 1-63 lowercase letters/) }]);
  });

  it("are checked with the description", () => {
    expect(violationsOf(() => checkCreate("Bad", "bell\x07")).map((v) => v.field)).toEqual(["workspace_id", "workspace.description"]);
  });
});

describe("updates", () => {
  it("change the description only, checked when the mask names it", () => {
    expect(violationsOf(() => checkUpdate(["description"], "new"))).toEqual([]);
    expect(violationsOf(() => checkUpdate(["*"], "bell\x07")).map((v) => v.field)).toEqual(["workspace.description"]);
    expect(violationsOf(() => checkUpdate(["name"], "")).map((v) => v.field)).toEqual(["update_mask"]);
    expect(violationsOf(() => checkUpdate([], "")).map((v) => v.field)).toEqual(["update_mask"]);
  });
});

describe("deletion", () => {
  it("never deletes the default workspace", () => {
    expect(() => checkDeletable("team")).not.toThrow();
    expect(() => checkDeletable("default")).toThrow(new FailedPreconditionError("DEFAULT_WORKSPACE", "the default workspace cannot be deleted"));
  });

  it("waits until the workspace holds no models", () => {
    expect(() => checkEmpty("team", 0)).not.toThrow();
    expect(() => checkEmpty("team", 2)).toThrow("workspaces/team still holds 2 model(s); delete them first");
  });
});

it("checks a list's page size", () => {
  expect(checkList(0)).toBe(50);
  expect(checkList(5000)).toBe(1000);
  expect(violationsOf(() => checkList(-1)).map((v) => v.field)).toEqual(["page_size"]);
});
