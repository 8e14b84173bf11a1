// Starts the real server process on a free port and hands back its URL:
// the bundle `npm start` runs (apps/server/dist/main.mjs, built by this
// package's test script before the suites), so what is tested is what
// users start. Used by every end-to-end suite.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
/** Node arguments that run the server as `npm start` does. */
export const SERVER_ARGS = ["--enable-source-maps", join(REPO_ROOT, "apps/server/dist/main.mjs")];
/** What `npm start` adds to the server's environment: glibc's malloc with a fixed mmap threshold (README, Production, "Memory"). */
export const SERVER_ENV = { MALLOC_MMAP_THRESHOLD_: "4194304" };

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Every line the server wrote to stdout and stderr so far. */
  output: string[];
  /** Sends a signal and waits for the process to exit; resolves its exit code/signal. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** PostgreSQL URL; unset = embedded PGlite in dataDir. */
  databaseUrl?: string;
  /** DATA_DIR; a fresh temp dir by default. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Port to listen on (default 0 = any free port). */
  port?: number;
  timeoutMs?: number;
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  // A data directory made here is this process's alone: removed once it exits.
  const ownDataDir = options.dataDir === undefined ? mkdtempSync(join(tmpdir(), "modelreg-e2e-")) : undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...SERVER_ENV,
    PORT: String(options.port ?? 0),
    HOST: "127.0.0.1",
    DATA_DIR: options.dataDir ?? ownDataDir,
    LOG_LEVEL: "info",
    // The key the clients of this process use (support/setup.ts).
    MODELREG_ADMIN_KEY: process.env.MODELREG_ACCESS_KEY ?? "",
    ...options.env,
  };
  delete env.DATABASE_URL;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  const child = spawn(process.execPath, SERVER_ARGS, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    // "close", not "exit": by then every line the process wrote has been read.
    child.once("close", (code, signal) => {
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
      res({ code, signal });
    }),
  );
  createInterface({ input: child.stderr! }).on("line", (l) => output.push(l));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start within ${options.timeoutMs ?? 60_000} ms:\n${output.join("\n")}`)), options.timeoutMs ?? 60_000);
    lines.on("line", (line) => {
      output.push(line);
      const m = /"url":"(https?:\/\/[^"]+)"/.exec(line);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`server exited (code ${code}, signal ${signal}) before listening:\n${output.join("\n")}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    child,
    output,
    async stop(signal = "SIGTERM") {
      const running = child.exitCode === null && child.signalCode === null;
      if (running) child.kill(signal);
      const result = await exited;
      // A shutdown that did not go cleanly (the server's own watchdog ended it
      // with code 1 and named the step that hung): say so in the test log.
      if (running && signal === "SIGTERM" && result.code !== 0)
        console.error(`server on ${url} exited with code ${result.code} (signal ${result.signal}) after SIGTERM; its last lines:\n${output.slice(-20).join("\n")}`);
      return result;
    },
  };
}

/** A temp directory removed by the returned function. */
export function tempDir(prefix = "modelreg-e2e-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
