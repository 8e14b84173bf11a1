// `modelreg workers list|get` end to end, on both databases: workers
// registered and claiming through the worker RPCs, read back through run()
// against the real server on loopback.
import { workers } from "@modelreg/db";
import { describeEachDatabase } from "@modelreg/db/testing";
import { TaskType } from "@modelreg/sdk";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { expectOk, runCli } from "./testing/cli-run.js";

const GiB = 1n << 30n;

describeEachDatabase("workers commands", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
    const w = server.client.taskWorkers;
    await w.registerWorker({
      parent: "workspaces/default",
      workerId: "gpu-box-1",
      worker: {
        hostname: "gpu-box-1.lab",
        queues: ["gpu", "default"],
        types: [TaskType.TRAIN, TaskType.EVALUATE],
        cpuCount: 32,
        memoryBytes: 256n * GiB,
        concurrency: 2,
        labels: { cuda: "12" },
        agent: "modelreg-cli/0.1.0 node/22",
        gpus: [0, 1].map((index) => ({ index, name: "NVIDIA A100-SXM4-40GB", memoryTotalBytes: 40n * GiB, memoryUsedBytes: 10n * GiB, memoryFreeBytes: 30n * GiB, utilization: 0.5 })),
      },
    });
    await w.registerWorker({ parent: "workspaces/default", workerId: "cpu-box", worker: { queues: ["default"], cpuCount: 8, memoryBytes: 16n * GiB } });
    // One task running on gpu-box-1.
    await server.client.tasks.createTask({ parent: "workspaces/default", taskId: "t-running", task: { type: TaskType.TRAIN, queue: "gpu" } });
    const claimed = await w.claimTask({ worker: "workspaces/default/workers/gpu-box-1", waitSeconds: 10 });
    expect(claimed.task?.name).toBe("workspaces/default/tasks/t-running");
  }, 120_000);
  afterAll(async () => server?.close());

  const cli = (...argv: string[]) => runCli(["--server", server.url, ...argv], bufferIo({}));
  const ok = async (...argv: string[]) => expectOk(argv, await cli(...argv));

  it("lists every worker with its machine, GPUs and free GPU memory, and what it runs", async () => {
    const rows = (await ok("workers", "list")).stdout.trimEnd().split("\n");
    expect(rows[0]!.split(/\s{2,}/)).toEqual(["WORKER", "ONLINE", "QUEUES", "CPUS", "MEMORY", "GPUS", "RUNNING", "LAST SEEN"]);
    const byId = Object.fromEntries(rows.slice(1).map((r) => [r.split(/\s+/)[0], r.split(/\s{2,}/)]));
    expect(byId["gpu-box-1"]!.slice(0, 7)).toEqual(["gpu-box-1", "yes", "gpu,default", "32", "256.0 GiB", "2 × NVIDIA A100-SXM4-40GB (60.0 GiB of 80.0 GiB free)", "1/2"]);
    expect(byId["cpu-box"]!.slice(0, 5)).toEqual(["cpu-box", "yes", "default", "8", "16.0 GiB"]);
    expect(Object.keys(byId).sort()).toEqual(["cpu-box", "gpu-box-1"]);
  });

  it("pages through them (--page-size), stops at --limit, and keeps to --online", async () => {
    const names = async (...flags: string[]) => (await ok("workers", "list", ...flags, "-o", "json")).json().map((w: { name: string }) => w.name.split("/").pop()).sort();
    expect(await names("--page-size", "1")).toEqual(["cpu-box", "gpu-box-1"]);
    expect(await names("--limit", "1")).toHaveLength(1);
    expect(await names("--online")).toEqual(["cpu-box", "gpu-box-1"]);
    // cpu-box last seen an hour ago, far past the lease: offline, and left out by --online.
    const seen = (when: ReturnType<typeof sql>) => server.database.db.update(workers).set({ lastSeenTime: when }).where(eq(workers.workerId, "cpu-box"));
    await seen(sql`now() - interval '1 hour'`);
    try {
      expect(await names("--online")).toEqual(["gpu-box-1"]);
      expect(await names()).toEqual(["cpu-box", "gpu-box-1"]);
      expect((await ok("workers", "list")).stdout).toMatch(/^cpu-box\s+no\s/m);
    } finally {
      await seen(sql`now()`);
    }
  });

  it("shows one worker whole: each GPU's memory, queues, labels, running tasks", async () => {
    const shown = (await ok("workers", "get", "gpu-box-1")).stdout;
    expect(shown).toMatch(/^Name:\s+workspaces\/default\/workers\/gpu-box-1$/m);
    expect(shown).toMatch(/^Hostname:\s+gpu-box-1\.lab$/m);
    expect(shown).toMatch(/^Task types:\s+train, evaluate$/m);
    expect(shown).toMatch(/^GPUs:\s+0: NVIDIA A100-SXM4-40GB, 40\.0 GiB total, 10\.0 GiB used, 30\.0 GiB free, 50% busy$/m);
    expect(shown).toMatch(/^\s+1: NVIDIA A100-SXM4-40GB, 40\.0 GiB total, 10\.0 GiB used, 30\.0 GiB free, 50% busy$/m);
    expect(shown).toMatch(/^Labels:\s+cuda=12$/m);
    expect(shown).toMatch(/^Running:\s+t-running$/m);
    const json = (await ok("workers", "get", "workspaces/default/workers/cpu-box", "-o", "json")).json();
    expect(json).toMatchObject({ name: "workspaces/default/workers/cpu-box", workerId: "cpu-box", cpuCount: 8, online: true });
  });

  it("says a worker that does not exist is not found (exit 15), and a bad name is a usage error (exit 2)", async () => {
    const missing = await cli("workers", "get", "nowhere");
    expect([missing.code, missing.stderr]).toEqual([15, expect.stringContaining("nowhere")]);
    const bad = await cli("workers", "get", "a/b");
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('"a/b" is not a worker')]);
  });
});
