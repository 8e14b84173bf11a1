// A killed pull continues where it stopped: the real CLI as its own process
// pulls a file of some MiB through a proxy that lets it through slowly and
// then holds it; once the partial file's record says a known number of
// bytes are on disk, the process gets SIGKILL. The next pull asks only for
// the rest (the proxy counts what it sends back) and ends with the right
// bytes and nothing else beside them.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startThrottledProxy, type ThrottledProxy } from "./testing/throttled-proxy.js";

const SIZE = 8 << 20;
/** Bytes on disk (per the record) before the kill. */
const KILL_AFTER = 1 << 20;
/** Headers and the version's listing, at most. */
const SLACK = 256 << 10;

let server: TestServer;
let proxy: ThrottledProxy;
let cwd: string;
let data: Buffer;

beforeAll(async () => {
  server = await startTestServer("pglite");
  proxy = await startThrottledProxy(server.url);
  cwd = await mkdtemp(join(tmpdir(), "cli-pull-resume-"));
  data = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  await writeFile(join(cwd, "weights.bin"), data);
  await server.client.models.createModel({ parent: "workspaces/default", modelId: "big" });
  const { version } = await server.client.versions.createVersion({ parent: "workspaces/default/models/big", versionId: "1.0.0" });
  await server.client.uploadFile(version!.name, join(cwd, "weights.bin"));
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

/** `modelreg pull big:1.0.0 -d out -o json` from the CLI's sources, as its own process. */
function pull() {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const argv = ["--conditions=@modelreg/source", "--import", tsx, join(import.meta.dirname, "main.ts"), "--server", proxy.url, "pull", "big:1.0.0", "-d", "out", "-o", "json"];
  const child = spawn(process.execPath, argv, { cwd, env: { ...process.env, MODELREG_ACCESS_KEY: "", MODELREG_CONFIG_DIR: join(cwd, "config") }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once("exit", (code, signal) => res({ code, signal })));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** The bytes the partial file's record says are on disk; 0 while there is none. */
async function recorded(): Promise<number> {
  try {
    return JSON.parse(await readFile(join(cwd, "out", "weights.bin.modelreg-partial.json"), "utf8")).bytes as number;
  } catch {
    return 0;
  }
}

it("continues a pull killed with SIGKILL mid-file, moving only the rest", async () => {
  // 1 MiB/s, and nothing after 4 MiB: the kill lands mid-file however fast the machine is.
  proxy.hold({ rate: 1 << 20, holdAfter: 4 << 20 });
  const first = pull();
  let ended = false;
  void first.exited.then(() => (ended = true));
  const deadline = Date.now() + 60_000;
  while ((await recorded()) < KILL_AFTER) {
    if (ended) throw new Error(`the first pull ended before the kill: ${JSON.stringify(first.output())}`);
    if (Date.now() > deadline) throw new Error("gave up waiting for the partial file's record");
    await new Promise((r) => setTimeout(r, 20));
  }
  first.child.kill("SIGKILL");
  expect((await first.exited).signal).toBe("SIGKILL");
  const kept = await recorded();
  expect(kept).toBeGreaterThanOrEqual(KILL_AFTER);
  expect(kept).toBeLessThan(SIZE);
  await expect(readFile(join(cwd, "out", "weights.bin"))).rejects.toMatchObject({ code: "ENOENT" });

  proxy.hold(undefined);
  const before = proxy.bytesDown;
  const second = pull();
  const end = await second.exited;
  expect(end.code, second.output().stderr).toBe(0);
  const moved = proxy.bytesDown - before;
  expect(moved).toBeLessThan(SIZE - kept + SLACK);
  expect(moved).toBeGreaterThanOrEqual(SIZE - kept);
  expect(JSON.parse(second.output().stdout)).toEqual([expect.objectContaining({ path: "weights.bin", downloaded: true })]);
  expect(Buffer.compare(await readFile(join(cwd, "out", "weights.bin")), data)).toBe(0);
  expect(await readdir(join(cwd, "out"))).toEqual(["weights.bin"]);
}, 120_000);
