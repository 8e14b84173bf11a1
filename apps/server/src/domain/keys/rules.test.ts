// The rules of access keys, without a database: names, users, roles and expiry.
import { Role } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../shared/errors.js";
import { checkCreate, checkList, checkRotatable, isExpired, parseKeyName } from "./rules.js";
import { violationsOf } from "../../testing/violations.js";

const NOW = Date.parse("2030-01-01T00:00:00Z");
const fields = { user: "ci-bot", role: Role.EDITOR, expireTime: null, description: "" };


describe("expiry", () => {
  it("is reached at the expire time, and never without one", () => {
    expect(isExpired(null, NOW)).toBe(false);
    expect(isExpired(new Date(NOW + 1), NOW)).toBe(false);
    expect(isExpired(new Date(NOW), NOW)).toBe(true);
    expect(isExpired(new Date(NOW - 1), NOW)).toBe(true);
  });

  it("must lie in the future for a new key", () => {
    expect(violationsOf(() => checkCreate("workspaces/w", { ...fields, expireTime: new Date(NOW + 60_000) }, NOW))).toEqual([]);
    expect(violationsOf(() => checkCreate("workspaces/w", { ...fields, expireTime: new Date(NOW) }, NOW))).toEqual([
      { field: "access_key.expire_time", description: "2030-01-01T00:00:00.000Z is not in the future" },
    ]);
  });
});

describe("new keys", () => {
  it("go into the parent workspace", () => {
    expect(checkCreate("workspaces/w", fields, NOW)).toEqual({ workspace: "w" });
  });

  it("have a viewer, editor, admin or worker role", () => {
    for (const role of [Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.WORKER]) expect(violationsOf(() => checkCreate("workspaces/w", { ...fields, role }, NOW))).toEqual([]);
    expect(violationsOf(() => checkCreate("workspaces/w", { ...fields, role: Role.UNSPECIFIED }, NOW))).toEqual([
      { field: "access_key.role", description: "must be ROLE_VIEWER, ROLE_EDITOR, ROLE_ADMIN or ROLE_WORKER" },
    ]);
  });

  it("name a user of 1-64 letters, digits, '.', '_', '-' and '@'", () => {
    for (const user of ["a", "ci.bot_1-x@corp", "x".repeat(64)]) expect(violationsOf(() => checkCreate("workspaces/w", { ...fields, user }, NOW))).toEqual([]);
    for (const user of ["", "-a", "a b", "x".repeat(65)]) expect(violationsOf(() => checkCreate("workspaces/w", { ...fields, user }, NOW)).map((v) => v.field)).toEqual(["access_key.user"]);
  });

  it("collect every bad field", () => {
    const bad = { user: "", role: Role.UNSPECIFIED, expireTime: new Date(NOW - 1), description: "bell\x07" };
    expect(violationsOf(() => checkCreate("nope", bad, NOW)).map((v) => v.field)).toEqual([
      "parent",
      "access_key.user",
      "access_key.role",
      "access_key.expire_time",
      "access_key.description",
    ]);
  });
});

describe("names", () => {
  it("parse into the workspace and the key id", () => {
    expect(parseKeyName("workspaces/default/accessKeys/AKJ3Q4M7V2ZC6N2PXW")).toEqual({ workspace: "default", keyId: "AKJ3Q4M7V2ZC6N2PXW" });
  });

  it("refuse other shapes and key ids", () => {
    expect(violationsOf(() => parseKeyName(""))[0]!.description).toMatch(/^is required: expected workspaces\/\{workspace\}\/accessKeys\/\{key_id\}/);
    expect(violationsOf(() => parseKeyName("accessKeys/AKJ3Q4M7V2ZC6N8PXW"))).toHaveLength(1);
    expect(violationsOf(() => parseKeyName("workspaces/default/accessKeys/AK1"))).toHaveLength(1);
  });
});

it("checks a list's workspace and page size together", () => {
  expect(checkList("workspaces/w", 0)).toEqual({ workspace: "w", limit: 50 });
  expect(violationsOf(() => checkList("nope", -1)).map((v) => v.field)).toEqual(["parent", "page_size"]);
});

it("does not rotate a revoked key", () => {
  expect(() => checkRotatable("k", null)).not.toThrow();
  expect(() => checkRotatable("k", new Date(NOW))).toThrow(FailedPreconditionError);
  expect(() => checkRotatable("k", new Date(NOW))).toThrow("k is revoked; create a new key instead");
});
