// A check that ListVersions (and GetVersion) answer byte for byte as before
// a change to their read path: `populate` fills a PostgreSQL database with
// versions of every shape (full metadata, aliases, archived, several models),
// `dump` prints the JSON of many list calls (every ordering, filters, small
// pages walked to the end) and gets. Dump before and after, then diff.
//
//   node --conditions=@modelreg/source --import tsx bench/search/golden.ts URL populate
//   node --conditions=@modelreg/source --import tsx bench/search/golden.ts URL dump > before.jsonl
import { type MessageInitShape, toJsonString } from "@bufbuild/protobuf";
import { openDatabase } from "@modelreg/db";
import { GetVersionResponseSchema, ListVersionsResponseSchema, type VersionSchema } from "@modelreg/proto";
import { Framework } from "@modelreg/sdk";
import { ensureDefaultWorkspace } from "../../apps/server/src/domain/workspaces/index.js";
import { FULL_VERSION } from "../../apps/server/src/testing/fixtures.js";
import { inProcessServer } from "./in-process.js";

const [url, mode] = process.argv.slice(2);
if (!url || (mode !== "populate" && mode !== "dump")) throw new Error("usage: golden.ts URL populate|dump");


const handle = await openDatabase({ url, poolSize: 4 });
await handle.migrate();
await ensureDefaultWorkspace(handle.db);
const server = inProcessServer(handle.db);
const api = server.api;
const ws = "workspaces/default";
const models = ["alpha", "beta", "gamma"];

if (mode === "populate") {
  for (const [mi, m] of models.entries()) {
    await api.models.createModel({ parent: ws, modelId: m, model: { description: `model ${m}`, labels: { owner: m } } });
    const parent = `${ws}/models/${m}`;
    for (let i = 0; i < 14; i++) {
      const kind = (i + mi) % 4;
      const version: MessageInitShape<typeof VersionSchema> =
        kind === 0
          ? { ...FULL_VERSION, metrics: { ...FULL_VERSION.metrics, f1: (i * 7 + mi) % 10 / 10 }, labels: { dataset: `2026-${10 + (i % 3)}`, team: i % 2 ? "risk" : "fraud" } }
          : kind === 1
            ? { description: `plain ${i}`, labels: { dataset: "2026-10" }, metrics: { accuracy: i / 20 } }
            : kind === 2
              ? { labels: { team: "vision", dataset: "2026-11" }, metrics: { f1: 0.5 }, runtime: "onnx", framework: Framework.ONNX }
              : {};
      await api.versions.createVersion(i % 3 === 0 ? { parent, versionId: `${i % 5}.${i}.0${i % 4 === 0 ? "-rc.1" : ""}`, version } : { parent, version });
    }
    const listed = (await api.versions.listVersions({ parent, pageSize: 100 })).versions;
    await api.models.setAlias({ model: parent, alias: "prod", version: listed[0]!.version });
    await api.models.setAlias({ model: parent, alias: "staging", version: listed[0]!.version });
    await api.models.setAlias({ model: parent, alias: "canary", version: listed[3]!.version });
    const archived = listed[5]!;
    await api.versions.updateVersion({ version: { name: archived.name, lifecycle: 2 }, updateMask: { paths: ["lifecycle"] } });
    await api.versions.updateVersion({ version: { name: listed[2]!.name, description: "updated" }, updateMask: { paths: ["description"] } });
  }
  process.stderr.write("populated\n");
} else {
  const parents = [`${ws}/models/-`, ...models.map((m) => `${ws}/models/${m}`)];
  const orders = ["", "version", "version desc", "create_time", "create_time desc", "update_time", "update_time desc", "metrics.f1 desc", "metrics.f1", "metrics.accuracy desc"];
  const filters = ["", 'labels.dataset = "2026-10"', "metrics.f1 > 0.3", 'lifecycle = ARCHIVED OR labels.team = "risk"', 'NOT labels.team = "risk"', "framework = ONNX"];
  const out: string[] = [];
  for (const parent of parents)
    for (const orderBy of orders)
      for (const filter of filters)
        for (const pageSize of [0, 3]) {
          let pageToken = "";
          do {
            const res = await api.versions.listVersions({ parent, orderBy, filter, pageSize, pageToken });
            out.push(`${parent} | ${orderBy} | ${filter} | ${pageSize}: ${toJsonString(ListVersionsResponseSchema, res)}`);
            pageToken = res.nextPageToken;
          } while (pageToken);
        }
  const all = (await api.versions.listVersions({ parent: `${ws}/models/-`, pageSize: 1000, filter: "lifecycle = ACTIVE OR lifecycle = ARCHIVED" })).versions;
  for (const v of all) {
    out.push(`get ${v.name}: ${toJsonString(GetVersionResponseSchema, await api.versions.getVersion({ ref: { case: "name", value: v.name } }))}`);
    out.push(`get ${v.uid}: ${toJsonString(GetVersionResponseSchema, await api.versions.getVersion({ ref: { case: "uid", value: v.uid } }))}`);
  }
  for (const m of models)
    out.push(`alias ${m}@prod: ${toJsonString(GetVersionResponseSchema, await api.versions.getVersion({ ref: { case: "name", value: `${ws}/models/${m}@prod` } }))}`);
  process.stdout.write(`${out.join("\n")}\n`);
  process.stderr.write(`${out.length} answers\n`);
}
await server.close();
await handle.close();
