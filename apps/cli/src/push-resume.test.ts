// A push without :version that stopped after creating its version: run
// again, it goes on with that version (whose upload sessions keep what was
// sent) instead of making another, and only while the stopped run is over
// and the version still PENDING. run() against the real server on loopback;
// the remembered pushes in a temp MODELREG_CACHE_DIR. (A push killed with
// SIGKILL mid-upload, with the bytes each run sends counted, is
// test/push-resume.test.ts.)
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { pendingPushes } from "./pending-pushes.js";
import { expectOk, runCli } from "./testing/cli-run.js";

let server: TestServer;
let cwd: string;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer("pglite");
  cwd = await mkdtemp(join(tmpdir(), "cli-push-resume-"));
  env = { MODELREG_CACHE_DIR: join(cwd, "cache") };
  await writeFile(join(cwd, "weights.bin"), Buffer.alloc(200_000, 3));
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

const cli = (argv: string[], signal?: AbortSignal) => runCli(["--server", server.url, ...argv], bufferIo(env, { cwd }), signal ? { signal } : {});
const ok = async (...argv: string[]) => expectOk(argv, await cli(argv));

it("goes on with the version a stopped push without :version created, once; other pushes make their own", async () => {
  await ok("models", "create", "resumable");
  const stop = new AbortController();
  stop.abort();
  const stopped = await cli(["push", "weights.bin", "resumable"], stop.signal);
  expect(stopped.code).not.toBe(0);
  expect(stopped.stderr).toContain("version workspaces/default/models/resumable/versions/1.0.0 was created for this push and has no files yet");

  // Another push (another description) is not the stopped one: a version of its own.
  expect((await ok("push", "weights.bin", "resumable", "--description", "other", "-o", "json")).json()).toMatchObject({ version: "1.0.1" });
  const again = await ok("push", "weights.bin", "resumable", "-o", "json");
  expect(again.json()).toMatchObject({ version: "1.0.0", state: "VERSION_STATE_READY", fileCount: "1" });
  expect(again.stderr).toContain("continuing the stopped push into version workspaces/default/models/resumable/versions/1.0.0");
  // Done: the same push once more is a new version.
  expect((await ok("push", "weights.bin", "resumable", "-o", "json")).json()).toMatchObject({ version: "1.0.2" });
});

it("does not take the version of a push whose process still runs", async () => {
  const identity = { server: "http://x", model: "workspaces/default/models/m", localPath: "/data/w.bin" };
  const pushes = pendingPushes(identity, env);
  await pushes.remember("workspaces/default/models/m/versions/1.0.0");
  // This process wrote it: it is the run itself (a run asks before it writes).
  expect(await pushes.find()).toBe("workspaces/default/models/m/versions/1.0.0");
  // Written by a process that still runs: not ours to take, until it is gone.
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  await once(child, "spawn");
  const dir = join(env.MODELREG_CACHE_DIR!, "pushes");
  for (const name of await readdir(dir)) {
    const stored = JSON.parse(await readFile(join(dir, name), "utf8")) as { value: { pid: number } };
    stored.value.pid = child.pid!;
    await writeFile(join(dir, name), JSON.stringify(stored));
  }
  expect(await pushes.find()).toBeUndefined();
  child.kill("SIGKILL");
  await once(child, "exit");
  expect(await pushes.find()).toBe("workspaces/default/models/m/versions/1.0.0");
  await pushes.forget();
  expect(await pushes.find()).toBeUndefined();
});

it("keeps every push's entry when many pushes remember and forget at once", async () => {
  const pushes = Array.from({ length: 40 }, (_, i) =>
    pendingPushes({ server: "http://x", model: "workspaces/default/models/many", localPath: `/data/w${i}.bin` }, env),
  );
  await Promise.all(pushes.map((p, i) => p.remember(`workspaces/default/models/many/versions/1.0.${i}`)));
  expect(await Promise.all(pushes.map((p) => p.find()))).toEqual(pushes.map((_, i) => `workspaces/default/models/many/versions/1.0.${i}`));
  await Promise.all(pushes.filter((_, i) => i % 2 === 0).map((p) => p.forget()));
  expect(await Promise.all(pushes.map((p) => p.find()))).toEqual(pushes.map((_, i) => (i % 2 === 0 ? undefined : `workspaces/default/models/many/versions/1.0.${i}`)));
});
