// listAllVersions/listAllModels with filter and order_by, across every
// model with "-", and model@alias wherever the SDK takes a version: the
// transfer helpers pin the alias to one version for the whole transfer.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeEachDatabase } from "@modelreg/db/testing";
import { VersionState } from "@modelreg/proto";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ALL_MODELS } from "./names.js";
import { patterned, tempDir } from "./testing/fixtures.js";

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describeEachDatabase("search and aliases", (kind) => {
  let server: TestServer;
  let tmp: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    server = await startTestServer(kind);
    tmp = await tempDir("sdk-aliases");
    const c = server.client;
    await c.models.createModel({ parent: "workspaces/default", modelId: "fraud-detector", model: { labels: { team: "risk" } } });
    await c.models.createModel({ parent: "workspaces/default", modelId: "churn", model: { labels: { team: "growth" } } });
    const versions: [string, string, number, string][] = [
      ["fraud-detector", "1.0.0", 0.8, "2026-10"],
      ["fraud-detector", "1.1.0", 0.91, "2026-10"],
      ["fraud-detector", "1.2.0", 0.87, "2026-10"],
      ["fraud-detector", "1.3.0", 0.95, "2026-09"],
      ["churn", "1.0.0", 0.97, "2026-10"],
    ];
    for (const [model, versionId, f1, dataset] of versions) {
      await c.versions.createVersion({ parent: `workspaces/default/models/${model}`, versionId, version: { metrics: { f1 }, labels: { dataset } } });
    }
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await tmp?.remove();
  });

  it("passes filter and order_by through, on every page", async () => {
    const c = server.client;
    const found = await collect(c.listAllVersions("fraud-detector", { filter: 'metrics.f1 > 0.85 AND labels.dataset = "2026-10"', orderBy: "metrics.f1 desc", pageSize: 1 }));
    expect(found.map((v) => v.version)).toEqual(["1.1.0", "1.2.0"]);
    const all = await collect(c.listAllVersions(ALL_MODELS, { orderBy: "metrics.f1 desc", pageSize: 2 }));
    expect(all.map((v) => `${v.model.split("/").at(-1)}:${v.version}`)).toEqual(["churn:1.0.0", "fraud-detector:1.3.0", "fraud-detector:1.1.0", "fraud-detector:1.2.0", "fraud-detector:1.0.0"]);
    const models = await collect(c.listAllModels({ filter: 'labels.team = "risk"' }));
    expect(models.map((m) => m.name)).toEqual(["workspaces/default/models/fraud-detector"]);
    const byName = await collect(c.listAllModels({ orderBy: "name desc", pageSize: 1 }));
    expect(byName.map((m) => m.name.split("/").at(-1))).toEqual(["fraud-detector", "churn"]);
  });

  it("uploads to, downloads from and lists files of model@alias", async () => {
    const c = server.client;
    await c.models.setAlias({ model: "workspaces/default/models/fraud-detector", alias: "production", version: "1.1.0" });
    await writeFile(join(tmp.path, "model.onnx"), "weights of 1.1.0");
    const ready = await c.uploadFile("fraud-detector@production", join(tmp.path, "model.onnx"));
    expect(ready).toMatchObject({ name: "workspaces/default/models/fraud-detector/versions/1.1.0", state: VersionState.READY });

    const files = await collect(c.listAllFiles("fraud-detector@production"));
    expect(files.map((f) => f.path)).toEqual(["model.onnx"]);
    const out = join(tmp.path, "out");
    const got = await c.downloadToDirectory("fraud-detector@production", out);
    expect(got.map((f) => f.path)).toEqual(["model.onnx"]);
    expect(await readFile(join(out, "model.onnx"), "utf8")).toBe("weights of 1.1.0");
    expect(Buffer.from(await c.downloadBytes("fraud-detector@production", "model.onnx", { transport: "stream" })).toString()).toBe("weights of 1.1.0");
    const { version } = await c.versions.getVersion({ ref: { case: "name", value: c.versionName("fraud-detector@production") } });
    expect(version).toMatchObject({ version: "1.1.0", aliases: ["production"] });
  });

  it("pins the alias once per transfer: a move mid-download does not mix versions", async () => {
    const c = server.client;
    for (const [version, seed] of [["1.2.0", 1], ["1.3.0", 2]] as const) {
      const dir = join(tmp.path, `src-${version}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "a.bin"), patterned(8 << 20, seed));
      await writeFile(join(dir, "b.bin"), patterned(1000, seed + 10));
      await c.uploadDirectory(`fraud-detector:${version}`, dir);
    }
    await c.models.setAlias({ model: "workspaces/default/models/fraud-detector", alias: "staging", version: "1.2.0" });
    let move: Promise<unknown> | undefined;
    const out = join(tmp.path, "pinned");
    // One file at a time over ReadFile (which names the version): the alias
    // moves while a.bin is read, before b.bin is asked for.
    const got = await c.downloadToDirectory("fraud-detector@staging", out, {
      transport: "stream",
      concurrency: 1,
      onProgress: () => {
        move ??= c.models.setAlias({ model: "workspaces/default/models/fraud-detector", alias: "staging", version: "1.3.0" });
      },
    });
    await move;
    expect((await c.versions.getVersion({ ref: { case: "name", value: c.versionName("fraud-detector@staging") } })).version?.version).toBe("1.3.0");
    expect(got.map((f) => f.path).sort()).toEqual(["a.bin", "b.bin"]);
    expect(Buffer.compare(await readFile(join(out, "b.bin")), patterned(1000, 11))).toBe(0);
  });
});
