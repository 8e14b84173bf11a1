// Who may touch protected aliases is decided in the domain, from the caller's role.
import { Role } from "@modelreg/proto";
import { expect, it } from "vitest";
import { mayTouchProtected } from "./index.js";

it("lets admin keys alone touch protected aliases", () => {
  expect([Role.VIEWER, Role.EDITOR, Role.ADMIN].map((role) => mayTouchProtected({ role }))).toEqual([false, false, true]);
  expect(mayTouchProtected({ role: Role.UNSPECIFIED })).toBe(false);
});
