// The log's batches: lines in order, handed on at the size or the wait
// bound, and nothing lost when the process exits however it exits.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { batchLines } from "./logger.js";

function recorder() {
  const written: string[] = [];
  const calls: string[] = [];
  return {
    written,
    calls,
    below: {
      write: (text: string) => void written.push(text),
      flush: (done: (err?: Error | null) => void) => {
        calls.push("flush");
        done();
      },
      flushSync: () => void calls.push("flushSync"),
    },
  };
}

describe("batchLines", () => {
  afterEach(() => vi.useRealTimers());

  it("hands the lines on in order, as one string, once enough have come", () => {
    const r = recorder();
    const batches = batchLines(r.below, 10, 50);
    batches.write("aaaa\n");
    batches.write("bbbb\n");
    expect(r.written).toEqual(["aaaa\nbbbb\n"]);
    batches.write("cc\n");
    expect(r.written).toEqual(["aaaa\nbbbb\n"]);
  });

  it("hands fewer lines on once the wait bound has passed since the first of them", () => {
    vi.useFakeTimers();
    const r = recorder();
    const batches = batchLines(r.below, 4096, 50);
    batches.write("one\n");
    vi.advanceTimersByTime(30);
    batches.write("two\n");
    vi.advanceTimersByTime(19);
    expect(r.written).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.written).toEqual(["one\ntwo\n"]);
    vi.advanceTimersByTime(1000);
    expect(r.written).toEqual(["one\ntwo\n"]);
  });

  it("hands what it holds on before the stream below flushes, both ways", () => {
    const r = recorder();
    const batches = batchLines(r.below, 4096, 50);
    batches.write("x\n");
    const done = vi.fn();
    batches.flush(done);
    expect(r.written).toEqual(["x\n"]);
    expect(done).toHaveBeenCalledOnce();
    batches.write("y\n");
    batches.flushSync();
    expect(r.written).toEqual(["x\n", "y\n"]);
    expect(r.calls).toEqual(["flush", "flushSync"]);
  });
});

describe("the process's log on stdout", () => {
  const run = promisify(execFile);
  const logger = fileURLToPath(new URL("./logger.ts", import.meta.url));
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelreg-logger-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Runs `body` in a node process with a logger `log`; its stdout, exit code and the lines as JSON. */
  async function child(body: string) {
    const file = join(dir, `child-${Math.random().toString(36).slice(2)}.ts`);
    await writeFile(file, `import { createLogger } from ${JSON.stringify(logger)};\nconst log = createLogger("info");\n${body}\n`);
    const out = await run(process.execPath, ["--import", "tsx", file], { maxBuffer: 64 << 20 }).catch((e: { stdout: string; code: number }) => e);
    const stdout = out.stdout;
    const lines = stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; n?: number });
    return { stdout, code: "code" in out ? out.code : 0, lines };
  }

  it("writes every line, in order, when the process exits at once", async () => {
    const r = await child(`for (let n = 0; n < 3; n++) log.info({ n }, "line");\nprocess.exit(3);`);
    expect(r.code).toBe(3);
    expect(r.lines.map((l) => l.n)).toEqual([0, 1, 2]);
  });

  it("writes every line, in order, before an uncaught error ends the process", async () => {
    const r = await child(`log.info("before");\nsetImmediate(() => { log.error("last words"); throw new Error("boom"); });`);
    expect(r.code).toBe(1);
    expect(r.lines.map((l) => l.msg)).toEqual(["before", "last words"]);
  });

  it("writes many lines, in order, across batches and a quiet end", async () => {
    const r = await child(
      `let n = 0;\nconst more = () => { for (let k = 0; k < 500 && n < 20000; k++) log.info({ n: n++ }, "line"); if (n < 20000) setImmediate(more); };\nmore();`,
    );
    expect(r.code).toBe(0);
    expect(r.lines.length).toBe(20000);
    expect(r.lines.every((l, i) => l.n === i)).toBe(true);
  });
});
