import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors.js";
import { parseModelName, parseVersionName, parseWorkspaceName } from "./resource-names.js";

function violation(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    const v = (e as InvalidArgumentError).violations[0]!;
    return `${v.field}: ${v.description}`;
  }
  throw new Error("expected a violation");
}

describe("resource names", () => {
  it("parses the three forms", () => {
    expect(parseWorkspaceName("parent", "workspaces/default")).toEqual({ workspace: "default" });
    expect(parseModelName("name", "workspaces/default/models/Fraud_1")).toEqual({ workspace: "default", model: "Fraud_1" });
    expect(parseVersionName("name", "workspaces/w/models/m/versions/2.1.0-rc.1")).toEqual({ workspace: "w", model: "m", version: "2.1.0-rc.1" });
  });

  it("says which field is wrong and what was expected", () => {
    expect(violation(() => parseModelName("parent", ""))).toBe("parent: is required: expected workspaces/{workspace}/models/{model}");
    expect(violation(() => parseModelName("name", "models/m"))).toMatch(/^name: "models\/m" is not a valid name: expected workspaces\/\{workspace\}\/models\/\{model\}/);
    expect(violation(() => parseModelName("name", "workspaces/default/models/1abc"))).toMatch(/model names are 1-64/);
    expect(violation(() => parseVersionName("name", "workspaces/default/models/m/versions/latest"))).toMatch(/not a semantic version/);
    expect(violation(() => parseWorkspaceName("parent", "workspaces/Default"))).toMatch(/workspace ids/);
    expect(violation(() => parseModelName("name", "workspaces/default/models/m/extra"))).toMatch(/expected/);
  });
});
