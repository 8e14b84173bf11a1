import { describe, expect, it } from "vitest";
import { isAliasName, modelName, splitRef, versionName, workspaceName } from "./names.js";

describe("short names", () => {
  it("expand within the workspace", () => {
    expect(workspaceName("default")).toBe("workspaces/default");
    expect(modelName("team-a", "fraud")).toBe("workspaces/team-a/models/fraud");
    expect(modelName("team-a", "-")).toBe("workspaces/team-a/models/-");
    expect(versionName("default", "fraud:3.2.0")).toBe("workspaces/default/models/fraud/versions/3.2.0");
    expect(versionName("default", "fraud:2.0.0-rc.1+build.5")).toBe("workspaces/default/models/fraud/versions/2.0.0-rc.1+build.5");
  });
  it("name a version through an alias with model@alias", () => {
    expect(versionName("default", "fraud@production")).toBe("workspaces/default/models/fraud@production");
    expect(versionName("team-a", "fraud-detector@staging")).toBe("workspaces/team-a/models/fraud-detector@staging");
    expect(isAliasName("workspaces/default/models/fraud@production")).toBe(true);
    expect(isAliasName("workspaces/default/models/fraud/versions/1.0.0")).toBe(false);
  });
  it("pass full names through", () => {
    expect(modelName("default", "workspaces/x/models/m")).toBe("workspaces/x/models/m");
    expect(versionName("default", "workspaces/x/models/m/versions/1.0.0")).toBe("workspaces/x/models/m/versions/1.0.0");
    expect(versionName("default", "workspaces/x/models/m@prod")).toBe("workspaces/x/models/m@prod");
  });
  it("refuse what is not a reference, saying the form", () => {
    expect(() => versionName("default", "fraud")).toThrow(/use model:version or model@alias/);
    expect(() => versionName("default", "fraud:")).toThrow(/use model:version/);
    expect(() => versionName("default", "fraud@")).toThrow(/use model:version/);
    expect(() => versionName("default", "@prod")).toThrow(/use model:version/);
    expect(() => modelName("default", "fraud:1.0.0")).toThrow(/names a version/);
    expect(() => modelName("default", "fraud@prod")).toThrow(/names a version/);
  });
  it("split model[:version] and model@alias", () => {
    expect(splitRef("fraud")).toEqual({ model: "fraud", version: undefined });
    expect(splitRef("fraud:1.2.3")).toEqual({ model: "fraud", version: "1.2.3" });
    expect(splitRef("fraud@prod")).toEqual({ model: "fraud", version: undefined, alias: "prod" });
    expect(splitRef("workspaces/w/models/m/versions/1.0.0")).toEqual({ model: "workspaces/w/models/m", version: "1.0.0" });
    expect(splitRef("workspaces/w/models/m@prod")).toEqual({ model: "workspaces/w/models/m", version: undefined, alias: "prod" });
  });
});
