// Version metadata, search, aliases and the ModelArts import through the
// CLI, end to end: run() against the real server on loopback (PGlite, a temp
// blob store), files in a temp working directory. Every command also with
// --output json.
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { expectOk, runCli } from "./testing/cli-run.js";

let server: TestServer;
let cwd: string;
const SAMPLE = new URL("../../../packages/sdk/src/testing/modelarts-import.json", import.meta.url);
const DOCS_SAMPLE = new URL("../../../packages/sdk/src/testing/modelarts-docs-import.json", import.meta.url);

beforeAll(async () => {
  server = await startTestServer("pglite");
  cwd = await mkdtemp(join(tmpdir(), "cli-metadata-"));
  await writeFile(join(cwd, "README.md"), "# Fraud detector\n\nScores card transactions.\n");
  await writeFile(join(cwd, "model.onnx"), "onnx bytes");
  await copyFile(SAMPLE, join(cwd, "create-model.json"));
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

async function cli(...argv: string[]) {
  return runCli(["--server", server.url, ...argv], bufferIo({}, { cwd, tty: false }));
}

async function ok(...argv: string[]) {
  return expectOk(argv, await cli(...argv));
}

describe("version metadata flags", () => {
  it("creates with the common metadata, a readme, a metadata file and a request id", async () => {
    await ok("models", "create", "meta");
    await writeFile(
      join(cwd, "extra.json"),
      JSON.stringify({
        installTypes: ["INSTALL_TYPE_REAL_TIME"],
        dependencies: [{ installer: "INSTALLER_PIP", packages: [{ name: "xgboost", version: "2.1.1", restraint: "RESTRAINT_EXACT" }] }],
        initial_config: '{"threshold": 0.7}',
        runtime: "python3.10",
        lineage: { sourceJobId: "job-7781" },
      }),
    );
    const args = [
      "versions", "create", "meta:1.0.0",
      "--framework", "xgboost", "--runtime", "python3.11", "--algorithm", "binary_classification",
      "--metric", "f1=0.88", "--metric", "recall=0.86",
      "--data-version", "2026-10", "--source-location", "s3://models/fraud/run-42/",
      "--readme", "README.md", "--metadata", "extra.json", "--label", "dataset=2026-10",
      "--request-id", "create-meta-1",
    ];
    const v = (await ok(...args, "-o", "json")).json();
    expect(v).toMatchObject({
      version: "1.0.0",
      framework: "FRAMEWORK_XGBOOST",
      runtime: "python3.11", // the flag wins over the file
      algorithm: "binary_classification",
      metrics: { f1: 0.88, recall: 0.86 },
      lineage: { dataVersion: "2026-10", sourceLocation: "s3://models/fraud/run-42/", sourceJobId: "job-7781" },
      readme: "# Fraud detector\n\nScores card transactions.\n",
      installTypes: ["INSTALL_TYPE_REAL_TIME"],
      dependencies: [{ installer: "INSTALLER_PIP", packages: [{ name: "xgboost", version: "2.1.1", restraint: "RESTRAINT_EXACT" }] }],
      initialConfig: '{"threshold": 0.7}',
      labels: { dataset: "2026-10" },
      lifecycle: "LIFECYCLE_ACTIVE",
    });
    // A retry with the same request id is the same version, not an error.
    expect((await ok(...args, "-o", "json")).json().uid).toBe(v.uid);

    const shown = (await ok("versions", "get", "meta:1.0.0")).stdout;
    expect(shown).toMatch(/^Framework:\s+xgboost$/m);
    expect(shown).toMatch(/^Metrics:\s+f1=0\.88\n\s+recall=0\.86$/m);
    expect(shown).toMatch(/^Data version:\s+2026-10$/m);
    expect(shown).toMatch(/^Lifecycle:\s+active$/m);
  });

  it("updates only the fields given, archives and unarchives, and refuses lineage", async () => {
    const before = (await ok("versions", "get", "meta:1.0.0", "-o", "json")).json();
    await writeFile(join(cwd, "docs.json"), JSON.stringify({ documents: [{ name: "Model card", url: "https://wiki.example.com/card" }] }));
    const v = (await ok("versions", "update", "meta:1.0.0", "--metric", "f1=0.9", "--framework", "onnx", "--metadata", "docs.json", "--etag", before.etag, "-o", "json")).json();
    expect(v).toMatchObject({ framework: "FRAMEWORK_ONNX", metrics: { f1: 0.9 }, runtime: "python3.11", documents: [{ name: "Model card" }], labels: { dataset: "2026-10" } });
    // --metric replaces every metric, as --label replaces every label.
    expect(v.metrics).toEqual({ f1: 0.9 });

    const archived = (await ok("versions", "update", "meta:1.0.0", "--archive", "-o", "json")).json();
    expect(archived.lifecycle).toBe("LIFECYCLE_ARCHIVED");
    expect((await ok("versions", "list", "meta", "-o", "json")).json()).toEqual([]);
    const all = (await ok("versions", "list", "meta", "--filter", "lifecycle:*")).stdout;
    expect(all).toMatch(/^1\.0\.0\s+pending \(archived\)\s+onnx\s+0\.9\s+-\s/m);
    expect((await ok("versions", "update", "meta:1.0.0", "--unarchive", "-o", "json")).json().lifecycle).toBe("LIFECYCLE_ACTIVE");

    const lineage = await cli("versions", "update", "meta:1.0.0", "--data-version", "2026-11");
    expect(lineage.code).toBe(2);
    expect(lineage.stderr).toMatch(/lineage, which is fixed when a version is created/);
    const nothing = await cli("versions", "update", "meta:1.0.0");
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/--framework, --runtime/);
    const both = await cli("versions", "update", "meta:1.0.0", "--archive", "--unarchive");
    expect(both.code).toBe(2);
    expect((await cli("versions", "create", "meta", "--framework", "theano")).stderr).toMatch(/expected one of pmml, h5, tensorflow_saved_model, pytorch/);
    expect((await cli("versions", "create", "meta", "--metric", "f1")).code).toBe(2);
    const badFile = await cli("versions", "create", "meta", "--metadata", "README.md");
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toMatch(/README\.md is not JSON/);
    await writeFile(join(cwd, "bad.json"), JSON.stringify({ framework: "FRAMEWORK_THEANO" }));
    expect((await cli("versions", "create", "meta", "--metadata", "bad.json")).stderr).toMatch(/bad\.json: not a Version in proto JSON/);
    // The server names a bad value.
    const bad = await cli("versions", "create", "meta", "--runtime", "python 3");
    expect(bad.code).toBe(13);
    expect(bad.stderr).toMatch(/runtime/);
  });
});

describe("the journey: search, inspect, alias, archive", () => {
  it("finds versions by metric and label, ordered by a metric, across models too", async () => {
    await ok("models", "create", "fraud", "--label", "team=risk");
    await ok("models", "create", "churn", "--label", "team=growth");
    const made: [string, string, string][] = [
      ["fraud:1.0.0", "0.80", "2026-10"],
      ["fraud:1.1.0", "0.91", "2026-10"],
      ["fraud:1.2.0", "0.87", "2026-10"],
      ["fraud:1.3.0", "0.95", "2026-09"],
      ["churn:1.0.0", "0.97", "2026-10"],
    ];
    for (const [ref, f1, dataset] of made) await ok("versions", "create", ref, "--metric", `f1=${f1}`, "--metric", "recall=0.5", "--label", `dataset=${dataset}`, "--framework", "pytorch");

    const filter = 'metrics.f1 > 0.85 AND labels.dataset = "2026-10"';
    const table = (await ok("versions", "list", "fraud", "--filter", filter, "--order-by", "metrics.f1 desc")).stdout.trim().split("\n");
    expect(table[0]).toMatch(/^VERSION\s+STATE\s+FRAMEWORK\s+F1\s+RECALL\s+ALIASES\s+LABELS\s+CREATED$/);
    expect(table.slice(1).map((l) => l.split(/\s+/).slice(0, 4).join(" "))).toEqual(["1.1.0 pending pytorch 0.91", "1.2.0 pending pytorch 0.87"]);
    const json = (await ok("versions", "list", "fraud", "--filter", filter, "--order-by", "metrics.f1 desc", "-o", "json")).json();
    expect(json.map((v: { version: string }) => v.version)).toEqual(["1.1.0", "1.2.0"]);

    const across = (await ok("versions", "list", "-", "--order-by", "metrics.f1 desc", "--limit", "2")).stdout.trim().split("\n");
    expect(across[0]).toMatch(/^MODEL:VERSION\s/);
    expect(across.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["churn:1.0.0", "fraud:1.3.0"]);

    const models = (await ok("models", "list", "--filter", 'labels.team = "risk"', "-o", "json")).json();
    expect(models.map((m: { name: string }) => m.name)).toEqual(["workspaces/default/models/fraud"]);
    const ordered = (await ok("models", "list", "--order-by", "name desc")).stdout.trim().split("\n");
    expect(ordered.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["meta", "fraud", "churn"]);

    const bad = await cli("versions", "list", "fraud", "--filter", "metrics.f1 >");
    expect(bad.code).toBe(13);
  });

  it("inspects one as JSON, sets and moves aliases, uses model@alias everywhere, archives old versions", async () => {
    const v = (await ok("versions", "get", "fraud:1.1.0", "--output", "json")).json();
    expect(v).toMatchObject({ name: "workspaces/default/models/fraud/versions/1.1.0", metrics: { f1: 0.91 }, framework: "FRAMEWORK_PYTORCH", aliases: [] });

    const set = await ok("aliases", "set", "fraud", "staging", "1.1.0");
    expect(set.stdout).toMatch(/^Alias:\s+staging\nVersion:\s+1\.1\.0\nProtected:\s+no/m);
    expect((await ok("aliases", "set", "fraud", "production", "1.1.0", "--expect", "-", "--protected", "--output", "json")).json()).toMatchObject({
      alias: "production",
      version: "1.1.0",
      protected: true,
    });
    const stale = await cli("aliases", "set", "fraud", "staging", "1.2.0", "--expect", "1.0.0");
    expect(stale.code).toBe(20);
    await ok("aliases", "set", "fraud", "staging", "1.2.0", "--expect", "1.1.0");
    expect((await cli("aliases", "set", "fraud", "staging", "fraud:1.2.0")).code).toBe(2);

    const list = (await ok("aliases", "list", "fraud")).stdout.trim().split("\n");
    expect(list[0]).toMatch(/^ALIAS\s+VERSION\s+PROTECTED\s+UPDATED$/);
    expect(list.slice(1).map((l) => l.split(/\s+/).slice(0, 3).join(" "))).toEqual(["production 1.1.0 yes", "staging 1.2.0 no"]);
    expect((await ok("aliases", "list", "fraud", "-o", "json")).json()).toHaveLength(2);
    expect((await ok("models", "list")).stdout).toMatch(/^fraud\s+1\.3\.0\s+4\s+production=1\.1\.0,staging=1\.2\.0\s/m);

    // model@alias in get, update, push, files, pull.
    expect((await ok("versions", "get", "fraud@staging", "-o", "json")).json().version).toBe("1.2.0");
    expect((await ok("versions", "update", "fraud@staging", "--description", "candidate", "-o", "json")).json()).toMatchObject({ version: "1.2.0", description: "candidate" });
    expect((await ok("push", "model.onnx", "fraud@staging", "-o", "json")).json()).toMatchObject({ version: "1.2.0", state: "VERSION_STATE_READY" });
    const refused = await cli("push", "model.onnx", "fraud@staging");
    expect(refused.code).toBe(19);
    await ok("push", "model.onnx", "fraud@staging", "--overwrite");
    expect((await ok("versions", "files", "fraud@staging", "-o", "json")).json().map((f: { path: string }) => f.path)).toEqual(["model.onnx"]);
    await ok("pull", "fraud@staging", "-o", "json");
    expect(await readFile(join(cwd, "fraud-1.2.0", "model.onnx"), "utf8")).toBe("onnx bytes");
    const table = (await ok("versions", "list", "fraud", "--order-by", "version desc")).stdout;
    expect(table).toMatch(/^1\.2\.0\s+ready\s+pytorch\s+0\.87\s+0\.5\s+staging\s/m);
    expect(table).toMatch(/^1\.1\.0\s+pending\s+pytorch\s+0\.91\s+0\.5\s+production\s/m);
    expect((await cli("versions", "create", "fraud@staging")).code).toBe(2);

    // Archive the old versions: hidden from the default list.
    for (const old of ["fraud:1.0.0", "fraud:1.3.0"]) expect((await ok("versions", "update", old, "--archive", "-o", "json")).json().lifecycle).toBe("LIFECYCLE_ARCHIVED");
    // One an alias points at is refused by the server.
    expect((await cli("versions", "update", "fraud@production", "--archive")).code).toBe(19);
    expect((await ok("versions", "list", "fraud", "-o", "json")).json().map((x: { version: string }) => x.version)).toEqual(["1.2.0", "1.1.0"]);
    const archived = (await ok("versions", "list", "fraud", "--filter", "lifecycle = ARCHIVED", "-o", "json")).json();
    expect(archived.map((x: { version: string }) => x.version)).toEqual(["1.3.0", "1.0.0"]);

    expect((await ok("aliases", "delete", "fraud", "staging")).stdout).toBe("deleted alias staging of workspaces/default/models/fraud\n");
    expect((await ok("aliases", "delete", "fraud", "production", "-o", "json")).stdout).toBe("{}\n");
    expect((await cli("versions", "get", "fraud@staging")).code).toBe(15);
    const none = await ok("aliases", "list", "fraud");
    expect(none.stderr).toBe("model workspaces/default/models/fraud has no aliases\n");
    expect((await ok("versions", "delete", "fraud:1.0.0", "-o", "json")).stdout).toBe("{}\n");
    // delete through an alias deletes the version it points at.
    await ok("versions", "create", "fraud:1.4.0");
    await ok("aliases", "set", "fraud", "doomed", "1.4.0", "-o", "json");
    expect((await ok("versions", "delete", "fraud@doomed")).stdout).toBe("deleted version workspaces/default/models/fraud@doomed\n");
    expect((await cli("versions", "get", "fraud:1.4.0")).code).toBe(15);
  });
});

describe("versions import-modelarts", () => {
  it("imports the sample request, creating the model, and prints the version", async () => {
    const missing = await cli("versions", "import-modelarts", "create-model.json");
    expect(missing.code).toBe(15);
    const table = await ok("versions", "import-modelarts", "create-model.json", "--create-model");
    expect(table.stdout).toMatch(/^Name:\s+workspaces\/default\/models\/fraud-detector\/versions\/1\.2\.0$/m);
    expect(table.stdout).toMatch(/^Framework:\s+pytorch$/m);
    const got = (await ok("versions", "get", "fraud-detector:1.2.0", "-o", "json")).json();
    expect(got).toMatchObject({
      framework: "FRAMEWORK_PYTORCH",
      metrics: { f1: 0.88, recall: 0.86, precision: 0.9, accuracy: 0.912 },
      lineage: { sourceJobId: "3f2a9c51-7d4e-4b8a-9a61-0c5e2b7d1f09", sourceType: "auto" },
      installTypes: ["INSTALL_TYPE_REAL_TIME", "INSTALL_TYPE_BATCH"],
      template: { id: "tmpl-pytorch-serving", inferFormat: "pytorch-v1" },
    });
    expect(got.interface.inputs).toHaveLength(7);

    const request = JSON.parse(await readFile(join(cwd, "create-model.json"), "utf8"));
    await writeFile(join(cwd, "next.json"), JSON.stringify({ ...request, model_version: "1.3.0" }));
    expect((await ok("versions", "import-modelarts", "next.json", "--create-model", "--request-id", "imp-1", "-o", "json")).json()).toMatchObject({ version: "1.3.0" });

    await writeFile(join(cwd, "unknown.json"), JSON.stringify({ ...request, source_copy: "true" }));
    const unknown = await cli("versions", "import-modelarts", "unknown.json");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown\.json: ModelArts import: "source_copy" is not a key this import knows/);
    await writeFile(join(cwd, "theano.json"), JSON.stringify({ ...request, model_type: "Theano" }));
    expect((await cli("versions", "import-modelarts", "theano.json")).stderr).toMatch(/"model_type" "Theano" is not one of/);
    expect((await cli("versions", "import-modelarts", "nope.json")).stderr).toMatch(/cannot read nope\.json: no such file/);
  });

  it("imports a request as ModelArts' documents write it, kept as written, and warns about what is not strictly valid", async () => {
    await copyFile(DOCS_SAMPLE, join(cwd, "mnist.json"));
    const r = await ok("versions", "import-modelarts", "mnist.json", "--create-model", "-o", "json");
    expect(r.json()).toMatchObject({ name: "workspaces/default/models/mnist/versions/1.0.0" });
    expect(r.stderr.trim().split("\n")).toEqual([
      'warning: mnist.json: input_params[0]: min/max kept on "data", a string parameter (the registry gives them meaning on int and float only) (marked lenient: not strictly valid)',
      'warning: mnist.json: output_params[0]: min/max kept on "data", a string parameter (the registry gives them meaning on int and float only) (marked lenient: not strictly valid)',
      "warning: mnist.json: apis[0]: input_params/output_params of POST / kept as written: not valid JSON Schema (marked lenient: not strictly valid)",
    ]);
    const request = JSON.parse(await readFile(join(cwd, "mnist.json"), "utf8"));
    const got = (await ok("versions", "get", "mnist:1.0.0", "-o", "json")).json();
    expect(got.interface.apis[0]).toMatchObject({ lenient: true, inputSchema: request.apis[0].input_params, outputSchema: request.apis[0].output_params });
    expect(got.interface.inputs[0]).toMatchObject({ name: "data", type: "PARAMETER_TYPE_STRING", min: 0, max: 9, lenient: true });
    // The strictly valid sample gave no warning.
    expect((await ok("versions", "import-modelarts", "next.json", "--request-id", "imp-1")).stderr).toBe("");
  });
});
