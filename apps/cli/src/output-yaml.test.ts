// -o yaml prints the very values -o json prints, for one resource, lists,
// free-form results, streams (one YAML document per item) and errors (a
// last YAML document on stderr): parsed back, they are equal.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { bufferIo } from "./io.js";
import { expectOk, runCli } from "./testing/cli-run.js";
import { createRegistry, type Registry } from "./testing/registry.js";

let reg: Registry;
beforeAll(async () => {
  reg = await createRegistry({ workspaces: ["default"] });
  for (const argv of [
    ["models", "create", "fraud", "--description", "card fraud: 2026", "--label", "team=risk", "--label", "since=2026-10"],
    ["models", "create", "churn"],
    ["versions", "create", "fraud:1.0.0", "--metric", "f1=0.88", "--label", "dataset=true"],
    ["versions", "create", "fraud:1.10.0", "--description", "multi\nline: text"],
    ["aliases", "set", "fraud", "production", "1.0.0"],
  ]) {
    await ok(...argv);
  }
}, 60_000);
afterAll(async () => reg?.close());

async function cli(...argv: string[]) {
  return runCli(argv, bufferIo({}), { transport: reg.transport });
}
async function ok(...argv: string[]) {
  return expectOk(argv, await cli(...argv));
}

describe("-o yaml", () => {
  for (const argv of [
    ["models", "get", "fraud"],
    ["models", "list"],
    ["versions", "get", "fraud:1.0.0"],
    ["versions", "list", "fraud"],
    ["versions", "list", "-", "--filter", 'labels.dataset = "true"'],
    ["aliases", "list", "fraud"],
    ["whoami"],
    ["tasks", "templates"],
    ["tasks", "params", "--type", "train"],
    ["models", "delete", "churn"],
  ]) {
    it(`prints what -o json prints: ${argv.join(" ")}`, async () => {
      const json = await ok(...argv, "-o", "json");
      if (argv.includes("delete")) await ok("models", "create", "churn");
      const yaml = await ok(...argv, "-o", "yaml");
      // (`{}` and `[]` read the same in both.)
      if (json.stdout.length > 3) expect(yaml.stdout).not.toBe(json.stdout);
      expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
    });
  }

  it("keeps strings that look like numbers, booleans or dates strings", async () => {
    const yaml = await ok("versions", "get", "fraud:1.0.0", "-o", "yaml");
    expect(yaml.stdout).toMatch(/^version: "?1\.0\.0"?$/m);
    expect(parse(yaml.stdout)).toMatchObject({ version: "1.0.0", labels: { dataset: "true" }, fileCount: "0" });
  });

  it("prints a stream as one YAML document per item (tasks logs)", async () => {
    const task = (await ok("tasks", "create", "--type", "train", "--model", "fraud", "-o", "json")).json();
    const json = await ok("tasks", "logs", task.name, "-o", "json");
    const yaml = await ok("tasks", "logs", task.name, "-o", "yaml");
    const lines = json.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(parseAllDocuments(yaml.stdout).map((d) => d.toJSON())).toEqual(lines);
  });

  it("ends an error with a YAML document of what -o json's last line holds", async () => {
    const json = await cli("versions", "get", "fraud:9.9.9", "-o", "json");
    const yaml = await cli("versions", "get", "fraud:9.9.9", "-o", "yaml");
    expect(yaml.code).toBe(json.code);
    expect(yaml.stderr.startsWith("error: version workspaces/default/models/fraud/versions/9.9.9 not found\n")).toBe(true);
    const docs = parseAllDocuments(yaml.stderr.slice(yaml.stderr.indexOf("---\n")));
    expect(docs.at(-1)!.toJSON()).toEqual(JSON.parse(json.stderr.trimEnd().split("\n").at(-1)!));
  });

  it("is named in the refusal of an unknown format", async () => {
    const bad = await cli("models", "list", "-o", "xml");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Allowed choices are table, json, yaml");
  });
});
