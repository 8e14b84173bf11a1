// Whose audit log a caller may read, and what a list must carry, without a database.
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, NotFoundError } from "../shared/errors.js";
import { checkList, checkReadable, mayRead } from "./rules.js";

describe("readers", () => {
  it("read their own workspace's log; the server-wide key reads every one, and all at once", () => {
    expect(mayRead({ workspace: "a" }, "a")).toBe(true);
    expect(mayRead({ workspace: "a" }, "b")).toBe(false);
    expect(mayRead({ workspace: "a" }, undefined)).toBe(false);
    expect(mayRead({ workspace: null }, "b")).toBe(true);
    expect(mayRead({ workspace: null }, undefined)).toBe(true);
  });

  it("find another workspace's log not there at all", () => {
    expect(() => checkReadable({ workspace: "a" }, "workspaces/b", "b")).toThrow(new NotFoundError("audit log", "workspaces/b", "audit log of workspaces/b"));
  });
});

describe("lists", () => {
  it("name one workspace, or every one with workspaces/-", () => {
    expect(checkList("workspaces/a", 0)).toEqual({ workspace: "a", limit: 50 });
    expect(checkList("workspaces/-", 10)).toEqual({ workspace: undefined, limit: 10 });
  });

  it("collect every bad argument", () => {
    try {
      checkList("nope", -1);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).violations.map((v) => v.field)).toEqual(["parent", "page_size"]);
    }
  });
});
