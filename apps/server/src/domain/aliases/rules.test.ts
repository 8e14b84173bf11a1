// The rules of aliases, without a database: who may touch protected aliases
// is decided in the domain, from the caller's role.
import { Role } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { PermissionDeniedError } from "../shared/errors.js";
import { checkDelete, checkSet, mayTouchProtected } from "./rules.js";
import { violatedFields } from "../../testing/violations.js";

const set = { model: "workspaces/w/models/m", alias: "prod", version: "1.2.0", protected: false, expectedVersion: "" };


it("lets admin keys alone touch protected aliases", () => {
  expect([Role.VIEWER, Role.EDITOR, Role.ADMIN].map((role) => mayTouchProtected({ role }))).toEqual([false, false, true]);
  expect(mayTouchProtected({ role: Role.UNSPECIFIED })).toBe(false);
});

describe("SetAlias", () => {
  it("answers the model of a good request", () => {
    expect(checkSet({ role: Role.EDITOR }, set)).toMatchObject({ workspace: "w", model: "m" });
    expect(checkSet({ role: Role.EDITOR }, { ...set, expectedVersion: "-" })).toMatchObject({ model: "m" });
  });
  it("names every bad field at once", () => {
    expect(violatedFields(() => checkSet({ role: Role.ADMIN }, { ...set, model: "m", alias: "Prod", version: "", expectedVersion: "x y" }))).toEqual([
      "model",
      "alias",
      "version",
      "expected_version",
    ]);
  });
  it("lets only an admin mark an alias protected", () => {
    expect(() => checkSet({ role: Role.EDITOR }, { ...set, protected: true })).toThrow(PermissionDeniedError);
    expect(() => checkSet({ role: Role.ADMIN }, { ...set, protected: true })).not.toThrow();
  });
});

it("DeleteAlias wants a model and an alias", () => {
  expect(violatedFields(() => checkDelete("workspaces/w/models/m", ""))).toEqual(["alias"]);
  expect(checkDelete("workspaces/w/models/m", "prod")).toMatchObject({ model: "m" });
});
