// SIGTERM or SIGINT to the real `npm start` stops the server it started:
// npm exits 0 once the server has drained and exited, and no process of it
// is left (before `exec` in the start script, the shell between npm and
// node died on the signal and left the server running, orphaned).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { createInterface } from "node:readline";
import { createRegistryClient } from "@modelreg/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT, SERVER_ENV, tempDir } from "./support/server.js";

const skip = existsSync("/proc/self/environ") ? "" : " (skipped: needs /proc to find the server's processes)";

/** Live processes (not zombies) whose environment holds `DATA_DIR=<dataDir>`, with their command lines and environments. */
function processesOf(dataDir: string): { pid: number; cmd: string; env: string[] }[] {
  const found: { pid: number; cmd: string; env: string[] }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const state = /\) (\S)/.exec(readFileSync(`/proc/${entry}/stat`, "utf8"))?.[1];
      if (state === "Z") continue;
      const env = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      if (!env.includes(`DATA_DIR=${dataDir}`)) continue;
      found.push({ pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0").join(" ").trim(), env });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

const refused = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });

describe.skipIf(skip !== "")(`npm start${skip}`, () => {
  const leftovers: number[] = [];
  afterEach(() => {
    // A failing run may leave the server behind: end it, by its pid.
    for (const pid of leftovers.splice(0)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });

  it.each(["SIGTERM", "SIGINT"] as const)("stops on %s to npm: npm exits 0 and no server process is left", async (signal) => {
    const data = tempDir("modelreg-npm-start-");
    try {
      const env: NodeJS.ProcessEnv = {};
      // npm's own variables from the npm running this suite would steer the inner npm.
      for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith("npm_")) env[k] = v;
      Object.assign(env, { DATA_DIR: data.path, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", MODELREG_ADMIN_KEY: process.env.MODELREG_ACCESS_KEY });
      delete env.DATABASE_URL;
      delete env.MALLOC_MMAP_THRESHOLD_;
      const npm: ChildProcess = spawn("npm", ["start"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      // "exit", not "close": an orphaned server would hold the pipes open.
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once("exit", (code, sig) => resolve({ code, signal: sig })));
      const lines: string[] = [];
      createInterface({ input: npm.stderr! }).on("line", (l) => lines.push(l));
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: npm.stdout! }).on("line", (line) => {
          lines.push(line);
          const m = /"url":"(https?:\/\/[^"]+)"/.exec(line);
          if (m) resolve(m[1]!);
        });
        void exited.then(({ code }) => reject(new Error(`npm start exited (${code}) before the server listened:\n${lines.join("\n")}`)));
      });

      const servers = processesOf(data.path).filter((p) => p.pid !== npm.pid);
      leftovers.push(...servers.map((p) => p.pid));
      expect(servers.map((p) => p.cmd)).toContainEqual(expect.stringContaining("apps/server/dist/main.mjs"));
      // glibc's malloc with a fixed mmap threshold (README, Production, "Memory"), as the e2e servers run.
      expect(servers.find((p) => p.cmd.includes("apps/server/dist/main.mjs"))?.env).toContain(`MALLOC_MMAP_THRESHOLD_=${SERVER_ENV.MALLOC_MMAP_THRESHOLD_}`);
      const client = createRegistryClient({ baseUrl: url });
      await client.models.createModel({ parent: "workspaces/default", modelId: "npm-start" });

      npm.kill(signal);
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
      expect(await refused(Number(new URL(url).port))).toBe("ECONNREFUSED");
      // npm waits for its child: by the time it exits, nothing of the server is left.
      expect(processesOf(data.path)).toEqual([]);
    } finally {
      data.remove();
    }
  });
});
