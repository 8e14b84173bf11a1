// Server processes for benchmarks: spawn on a free loopback port, wait until
// it listens (its `"url":"http://..."` log line, or the port accepting
// connections, since LOG_LEVEL=warn hides the line), and always kill it.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { createInterface } from "node:readline";
import { SERVER_ENV } from "../../test/support/server.js";

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** The last lines the process wrote (stdout and stderr). */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
// Last resort: no server outlives the bench process, whatever happened.
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});
const cleanups: (() => Promise<unknown>)[] = [];
/** Runs `fn` (e.g. dropping a database) if the bench is interrupted; servers are killed first. */
export function onInterrupt(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: stopping servers\n`);
    for (const c of live) c.kill("SIGKILL");
    const timeout = new Promise((r) => setTimeout(r, 5000));
    void Promise.race([Promise.allSettled(cleanups.map((f) => f())), timeout]).then(() => process.exit(130));
  });

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((res, rej) => srv.once("error", rej).listen(0, "127.0.0.1", res));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((res) => srv.close(res));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
  });
}

export interface StartServerOptions {
  name: string;
  /** Node arguments, e.g. ["--conditions=@modelreg/source", "--import", "tsx", "bench/x/server.ts"]. */
  nodeArgs: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs?: number;
  /** Sees every line the process writes (stdout and stderr). */
  onLine?: (line: string) => void;
}

export async function startServer(opts: StartServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, opts.nodeArgs, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  const lines: string[] = [];
  let logged: string | undefined;
  for (const stream of [child.stdout!, child.stderr!])
    createInterface({ input: stream }).on("line", (l) => {
      opts.onLine?.(l);
      lines.push(l);
      if (lines.length > 40) lines.shift();
      logged ??= /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(l)?.[1];
    });
  let gone = false;
  const exited = new Promise<void>((res) =>
    child.once("exit", (code, signal) => {
      live.delete(child);
      gone = true;
      // Said in the tail, so a server that dies mid-benchmark says how.
      lines.push(`(${opts.name} exited${signal ? ` on ${signal}` : ` with code ${code}`} at ${new Date().toISOString()})`);
      res();
    }),
  );

  const tail = () => lines.join("\n");
  const stop = async (graceMs = 5000) => {
    if (gone) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(t);
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!logged && !(await accepts(port))) {
    if (gone) throw new Error(`${opts.name} exited before listening:\n${tail()}`);
    if (Date.now() > deadline) {
      await stop(1000);
      throw new Error(`${opts.name} did not listen within ${opts.timeoutMs ?? 60_000} ms:\n${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name: opts.name, url: logged ?? `http://127.0.0.1:${port}`, pid: child.pid!, tail, stop };
}

/** User+system CPU time of a process in ms (Linux /proc; NaN elsewhere or once gone). */
export function cpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * User+system CPU time, in ms, of a process's main thread alone (Linux
 * /proc; NaN elsewhere or once gone). For node, the rest of cpuMs() is its
 * helper threads: V8's garbage collector and optimising compiler, and the
 * libuv pool.
 */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

/** utime + stime of a /proc stat file, in ms. */
function statCpuMs(path: string): number {
  try {
    // Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
    const f = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/**
 * Scheduler time of a process, summed over its threads, in ms (Linux
 * /proc/<pid>/task/<tid>/schedstat; zeros elsewhere): on a CPU, and ready
 * but waiting for one.
 */
export function schedMs(pid: number): { cpu: number; wait: number } {
  let cpu = 0;
  let wait = 0;
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {}
  for (const tid of tids) {
    try {
      const [run, queued] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ");
      cpu += Number(run) / 1e6;
      wait += Number(queued) / 1e6;
    } catch {} // the thread ended
  }
  return { cpu, wait };
}

let built = false;
/**
 * Starts the modelreg server as `npm start` does: the bundle
 * (apps/server/dist/main.mjs), built once per bench run from the current
 * sources, with npm start's environment under `env`. `nodeArgs` are node
 * flags before the bundle (e.g. --cpu-prof); `cwd` is the repository root.
 */
export function startModelregServer(opts: Omit<StartServerOptions, "nodeArgs"> & { nodeArgs?: string[] }): Promise<ServerProcess> {
  if (!built) execFileSync(process.execPath, ["apps/server/build.mjs"], { cwd: opts.cwd, stdio: "inherit" });
  built = true;
  return startServer({
    ...opts,
    nodeArgs: [...(opts.nodeArgs ?? []), "--enable-source-maps", "apps/server/dist/main.mjs"],
    // What npm start adds to the environment (the e2e servers' SERVER_ENV,
    // which test/npm-start.test.ts checks against npm start); baseline
    // servers run without it, as plain node does.
    env: { ...SERVER_ENV, ...opts.env },
  });
}

/** parseArgs options of the benches that start modelreg, for looking inside the server. */
export const SERVER_DEBUG_OPTIONS = {
  /** Writes each server's CPU profile to this directory. */
  "cpu-prof": { type: "string" },
  /** Extra node arguments for the server processes, e.g. --server-arg=--trace-gc. */
  "server-arg": { type: "string", multiple: true },
  /** Appends every line the server processes write to this file, with the time and the server's name. */
  "server-log": { type: "string" },
} as const;

/** What SERVER_DEBUG_OPTIONS add to startServer: node arguments, and a line sink per server name. */
export function serverDebug(values: { "cpu-prof"?: string; "server-arg"?: string[]; "server-log"?: string }): {
  nodeArgs: string[];
  onLine: (name: string) => ((line: string) => void) | undefined;
} {
  const profile = values["cpu-prof"];
  const logFile = values["server-log"];
  return {
    nodeArgs: [...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : []), ...(values["server-arg"] ?? [])],
    onLine: (name) => (logFile ? (line) => appendFileSync(logFile, `${Date.now()} ${name} ${line}\n`) : undefined),
  };
}
