import { expect, it } from "vitest";
import { EtagMismatchError } from "./errors.js";
import { checkEtag, etagOf } from "./etag.js";

const UID = "0190b6d2-7a1c-4c55-9e0e-6f1b2c3d4e5f";

it("changes with the revision and the uid", () => {
  expect(etagOf(UID, 1)).not.toBe(etagOf(UID, 2));
  expect(etagOf(UID, 1)).not.toBe(etagOf("1190b6d2-7a1c-4c55-9e0e-6f1b2c3d4e5f", 1));
});

it("lets a change through with no etag or the current one, and refuses a stale one", () => {
  expect(() => checkEtag("workspaces/w/models/m", "", etagOf(UID, 2))).not.toThrow();
  expect(() => checkEtag("workspaces/w/models/m", etagOf(UID, 2), etagOf(UID, 2))).not.toThrow();
  expect(() => checkEtag("workspaces/w/models/m", etagOf(UID, 1), etagOf(UID, 2))).toThrow(EtagMismatchError);
});
