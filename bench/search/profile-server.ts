// The real server process (apps/server/dist/main.mjs, the bundle npm start runs) on the database a
// `bench search --database-url URL` run left, driven through the SDK with the
// bench's ListVersions cases, one call in flight: its CPU ms per call, case
// by case, and (with PROFILE_DIR set) a CPU profile of the whole run.
//
//   node --conditions=@modelreg/source --import tsx bench/search/profile-server.ts URL [calls] [PROFILE_DIR]
import { randomBytes } from "node:crypto";
import { cpuMs } from "../lib/processes.js";
import { byMetric, type Call, type CaseKind, filtered, oneModel } from "./cases.js";
import { MODEL_PREFIX } from "./load.js";
import { sdkClient, startModelreg } from "./modelreg.js";

const [url, callsArg, profileDir] = process.argv.slice(2);
if (!url) throw new Error("usage: profile-server.ts DATABASE_URL [calls] [PROFILE_DIR]");
const calls = Number(callsArg ?? 300);
const token = `bench-admin.${randomBytes(32).toString("base64url")}`;
const server = await startModelreg({
  name: "modelreg-profile",
  dbUrl: url,
  adminKey: token,
  nodeArgs: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
});
const client = sdkClient(server, token);
const api = client.api;
try {
  const cases: [string, CaseKind, (i: number) => Call][] = [
    ["b1", filtered, () => ({ modelreg: "", raw: undefined })],
    ["c1", byMetric, () => ({ modelreg: "", raw: undefined })],
    ["d1", oneModel, (i) => ({ modelreg: "", raw: undefined, model: `${MODEL_PREFIX}${String((i * 37) % 1000).padStart(3, "0")}` })],
  ];
  for (const [id, kind, call] of cases) {
    for (let i = 0; i < 30; i++) await kind.modelreg(api, call(i));
    const c0 = cpuMs(server.pid);
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await kind.modelreg(api, call(i));
    const wall = (performance.now() - t0) / calls;
    process.stdout.write(`${id}: server CPU ${((cpuMs(server.pid) - c0) / calls).toFixed(2)} ms per call; wall ${wall.toFixed(2)} ms per call\n`);
  }
} finally {
  client.close();
  await server.stop(20_000);
}
