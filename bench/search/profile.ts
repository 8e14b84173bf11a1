// In-process profile of ListVersions' server side on the database a
// `bench search --database-url URL` run left: the domain's list, the proto
// conversion and the binary encoding, as the service does them, timed apart
// (CPU of this process per page, so PostgreSQL's own time is not counted).
//
//   node --conditions=@modelreg/source --import tsx [--cpu-prof --cpu-prof-dir DIR] bench/search/profile.ts URL [calls]
import { create, toBinary } from "@bufbuild/protobuf";
import { openDatabase } from "@modelreg/db";
import { ListVersionsResponseSchema } from "@modelreg/proto";
import { createVersionsDomain, type ListOptions } from "../../apps/server/src/domain/versions/index.js";
import { versionToProto } from "../../apps/server/src/convert/resources.js";
import { FILTER, ORDER_BY, PAGE_SIZE } from "./cases.js";
import { MODEL_PREFIX, WORKSPACE } from "./load.js";

const url = process.argv[2];
if (!url) throw new Error("usage: profile.ts DATABASE_URL [calls]");
const calls = Number(process.argv[3] ?? 300);

const handle = await openDatabase({ url, poolSize: 2 });
const versions = createVersionsDomain(handle.db);
const scope = { workspace: null };
const across = `workspaces/${WORKSPACE}/models/-`;
const model = `workspaces/${WORKSPACE}/models/${MODEL_PREFIX}123`;

const cases: [string, string, ListOptions][] = [
  ["b1", across, { pageSize: PAGE_SIZE, pageToken: "", filter: FILTER }],
  ["c1", across, { pageSize: PAGE_SIZE, pageToken: "", orderBy: ORDER_BY }],
  ["d1", model, { pageSize: PAGE_SIZE, pageToken: "", filter: FILTER, orderBy: ORDER_BY }],
];

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const now = () => performance.now();

for (const [id, parent, opts] of cases) {
  for (let i = 0; i < 30; i++) {
    const page = await versions.list(scope, parent, opts);
    toBinary(ListVersionsResponseSchema, create(ListVersionsResponseSchema, { versions: page.versions.map(versionToProto), nextPageToken: page.nextPageToken }));
  }
  let wall = 0;
  let listCpu = 0;
  let protoCpu = 0;
  let binCpu = 0;
  let rows = 0;
  let bytes = 0;
  for (let i = 0; i < calls; i++) {
    const t0 = now();
    const c0 = cpu();
    const page = await versions.list(scope, parent, opts);
    const c1 = cpu();
    const msg = create(ListVersionsResponseSchema, { versions: page.versions.map(versionToProto), nextPageToken: page.nextPageToken });
    const c2 = cpu();
    const bin = toBinary(ListVersionsResponseSchema, msg);
    const c3 = cpu();
    wall += now() - t0;
    listCpu += c1 - c0;
    protoCpu += c2 - c1;
    binCpu += c3 - c2;
    rows = page.versions.length;
    bytes = bin.length;
  }
  const f = (x: number) => (x / calls).toFixed(2);
  process.stdout.write(
    `${id}: ${rows} rows, ${bytes} bytes; per page: wall ${f(wall)} ms; CPU ms: list ${f(listCpu)}, toProto ${f(protoCpu)}, toBinary ${f(binCpu)}, total ${f(listCpu + protoCpu + binCpu)}\n`,
  );
}
await handle.close();
