// One run of the worker's program for a task: spawned in its own process
// group, its stdout and stderr lines become the task's log, requests of the
// line protocol on stdout are done through the TaskContext (checkpoint and
// register one at a time, in order, each answered on the program's stdin),
// and a stop or cancel (the context's signal) sends SIGTERM to the group,
// then SIGKILL after the grace period.
import { type ChildProcess, spawn } from "node:child_process";
import { isAbsolute, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { TaskContext } from "@modelreg/sdk";
import { formatReply, parseLine, type Request } from "./line-protocol.js";

export interface ProgramSpec {
  command: string;
  args: string[];
  /** The program's working directory; relative paths in requests resolve against it. */
  cwd: string;
  env: Record<string, string | undefined>;
  /** From SIGTERM to SIGKILL. */
  graceMs: number;
  /** Each line the program writes, for the worker's own terminal. */
  echo?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface ProgramExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last line the program wrote on stderr, for the failure message. */
  lastError: string;
}

const NOTE = "modelreg worker:";

/** Runs the program to its end; the requests it made are done (or refused) before this resolves. */
export async function runProgram(ctx: TaskContext, spec: ProgramSpec): Promise<ProgramExit> {
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ["pipe", "pipe", "pipe"],
    // Its own process group, so that a stop reaches what it started too (a shell's children).
    detached: process.platform !== "win32",
  });
  // A program that never reads its stdin (or closed it) is fine.
  child.stdin!.on("error", () => {});
  const requests = createRequestQueue(ctx, spec, child);
  let lastError = "";
  const lines = (stream: "stdout" | "stderr") =>
    new Promise<void>((done) => {
      const rl = createInterface({ input: child[stream]!, crlfDelay: Number.POSITIVE_INFINITY });
      rl.on("line", (line) => {
        spec.echo?.(line, stream);
        if (stream === "stderr") {
          if (line.trim()) lastError = line;
          ctx.log(line, "stderr");
        } else requests.line(line);
      });
      rl.on("close", done);
    });
  const stopper = createStopper(child, spec.graceMs);
  const onAbort = () => stopper.stop();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  if (ctx.signal.aborted) stopper.stop();
  try {
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res, rej) => {
      child.once("error", rej);
      child.once("exit", (code, signal) => res({ code, signal }));
    });
    const [exit] = await Promise.all([exited, lines("stdout"), lines("stderr")]);
    await requests.drained();
    return { ...exit, lastError };
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    stopper.done();
    child.stdin!.destroy();
  }
}

/** SIGTERM to the program's group, SIGKILL after the grace period unless it ended. */
function createStopper(child: ChildProcess, graceMs: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  child.once("exit", () => {
    ended = true;
  });
  const send = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      if (process.platform === "win32") child.kill(signal);
      else process.kill(-child.pid, signal);
    } catch {
      // Nothing left in the group.
    }
  };
  return {
    stop() {
      if (timer || ended) return;
      send("SIGTERM");
      timer = setTimeout(() => send("SIGKILL"), graceMs);
    },
    /** After the program ended: what it left running in its group goes too. */
    done() {
      if (timer) clearTimeout(timer);
      if (process.platform !== "win32" || !ended) send("SIGKILL");
    },
  };
}

/** Reads stdout lines: log lines are logged, requests done; checkpoint and register one at a time, in order. */
function createRequestQueue(ctx: TaskContext, spec: ProgramSpec, child: ChildProcess) {
  let chain: Promise<void> = Promise.resolve();
  const reply = (line: string) => {
    if (child.stdin && !child.stdin.destroyed && child.stdin.writable) child.stdin.write(`${line}\n`);
  };
  const path = (p: string) => (isAbsolute(p) ? p : resolve(spec.cwd, p));
  const later = (verb: "checkpoint" | "register", key: Record<string, string | number>, work: () => Promise<Record<string, string>>) => {
    chain = chain.then(async () => {
      try {
        reply(formatReply("ok", verb, { ...key, ...(await work()) }));
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        ctx.log(`${NOTE} ${verb} failed: ${message}`, "stderr");
        reply(formatReply("error", verb, { ...key, message }));
      }
    });
  };
  const handle = (r: Request) => {
    switch (r.verb) {
      case "progress":
        return ctx.progress(r.progress);
      case "metric":
        return ctx.metric(r.name, r.value, r.step, r.epoch);
      case "checkpoint":
        return later("checkpoint", { epoch: r.epoch }, async () => {
          const c = await ctx.saveCheckpoint(path(r.dir), r.epoch, r.metrics);
          return { name: c.name };
        });
      case "register":
        return later("register", r.epoch !== undefined ? { epoch: r.epoch } : { dir: r.dir! }, async () => {
          const v = await ctx.registerVersion({
            ...(r.epoch !== undefined ? { epoch: r.epoch } : { dir: path(r.dir!) }),
            ...(r.model ? { model: r.model } : {}),
            ...(r.version ? { versionId: r.version } : {}),
            ...(r.description ? { version: { description: r.description } } : {}),
          });
          return { version: v.name };
        });
    }
  };
  return {
    line(line: string) {
      const parsed = parseLine(line);
      if (parsed === undefined) return ctx.log(line, "stdout");
      if ("error" in parsed) {
        ctx.log(line, "stdout");
        ctx.log(`${NOTE} ignored the line above: ${parsed.error}`, "stderr");
        return;
      }
      try {
        handle(parsed.request);
      } catch (e) {
        ctx.log(`${NOTE} ${parsed.request.verb} refused: ${e instanceof Error ? e.message : String(e)}`, "stderr");
      }
    },
    drained: () => chain,
  };
}

/** How the attempt ends, from how the program ended. */
export type ProgramOutcome = { kind: "succeeded" } | { kind: "aborted" } | { kind: "failed"; message: string; retryable: boolean };

/** Exit code 2: the program says running it again cannot help. */
export const EXIT_NOT_RETRYABLE = 2;

/**
 * 0: succeeded (the SDK makes it STOPPED when a stop was asked). Ended by
 * our SIGTERM or SIGKILL (or 128 + those, as shells report them) after a
 * stop or cancel: the abort, as asked. Any other non-zero code fails the
 * attempt, retryable unless it is 2; killed by a signal nobody here sent:
 * failed, retryable.
 */
export function outcomeOf(exit: ProgramExit, aborted: boolean, what: string): ProgramOutcome {
  if (exit.code === 0) return { kind: "succeeded" };
  const bySignalWeSend = exit.signal === "SIGTERM" || exit.signal === "SIGKILL" || exit.code === 128 + 15 || exit.code === 128 + 9;
  if (aborted && bySignalWeSend) return { kind: "aborted" };
  const why = exit.lastError ? `: ${exit.lastError}` : "";
  if (exit.signal) return { kind: "failed", message: `${what} was killed by ${exit.signal}${why}`, retryable: true };
  return { kind: "failed", message: `${what} exited with code ${exit.code}${why}`, retryable: exit.code !== EXIT_NOT_RETRYABLE };
}
