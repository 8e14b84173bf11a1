import { describe, expect, it } from "vitest";
import { formatReply, formatValue, parseLine, parsePairs } from "./line-protocol.js";

describe("which lines are requests", () => {
  it("reads only the four verbs at the start of a line, followed by a space or the end", () => {
    for (const line of ["epoch 3 done", " ::metric name=a value=1 step=1", "::warning::x", "::metrics name=a", "::progressive", "::", "::ok checkpoint epoch=1", "loss=0.3 ::metric"]) {
      expect(parseLine(line), line).toBeUndefined();
    }
    expect(parseLine("::progress")).toEqual({ request: { verb: "progress", progress: {} } });
    expect(parseLine("::progress\tepoch=1")).toEqual({ request: { verb: "progress", progress: { epoch: 1 } } });
  });
});

describe("requests", () => {
  it("progress: whole numbers, a fraction from 0 to 1, a quoted message", () => {
    expect(parseLine('::progress epoch=3 total_epochs=10 step=120 total_steps=400 fraction=0.3 eta_seconds=65 message="saving checkpoint"')).toEqual({
      request: { verb: "progress", progress: { epoch: 3, totalEpochs: 10, step: 120, totalSteps: 400, fraction: 0.3, etaSeconds: 65, message: "saving checkpoint" } },
    });
    expect(parseLine("::progress fraction=1.5")).toEqual({ error: "::progress: fraction=1.5 is out of range: 0 to 1" });
    expect(parseLine("::progress epoch=-1")).toEqual({ error: "::progress: epoch=-1 is not a whole number from 0" });
    expect(parseLine("::progress epoch=2.5")).toEqual({ error: "::progress: epoch=2.5 is not a whole number from 0" });
  });

  it("metric: a name, a finite value, and a step (the epoch when no step is given)", () => {
    expect(parseLine("::metric name=loss value=0.31 step=120 epoch=3")).toEqual({ request: { verb: "metric", name: "loss", value: 0.31, step: 120, epoch: 3 } });
    expect(parseLine("::metric name=val/acc value=1e-3 epoch=2")).toEqual({ request: { verb: "metric", name: "val/acc", value: 0.001, step: 2, epoch: 2 } });
    expect(parseLine("::metric name=loss value=-2 step=0")).toEqual({ request: { verb: "metric", name: "loss", value: -2, step: 0 } });
    for (const [line, why] of [
      ["::metric name=loss value=nan step=1", "value=nan is not a finite number"],
      ["::metric name=loss value=inf step=1", "value=inf is not a finite number"],
      ["::metric name=loss value=0x10 step=1", "value=0x10 is not a finite number"],
      ["::metric name=loss value=1", "step= (or epoch=) is required"],
      ["::metric value=1 step=1", "name= is required"],
      ['::metric name="val loss" value=1 step=1', "name=val loss is not a metric name"],
      ["::metric name=loss value=1 step=1 stpe=2", "unknown key stpe (metric takes name, value, step, epoch)"],
    ]) {
      expect((parseLine(line!) as { error: string }).error, line).toContain(why);
    }
  });

  it("checkpoint: a directory, an epoch, and metric.<name> values", () => {
    expect(parseLine('::checkpoint dir="./ckpt/epoch 3" epoch=3 metric.accuracy=0.91 metric.val.loss=0.2')).toEqual({
      request: { verb: "checkpoint", dir: "./ckpt/epoch 3", epoch: 3, metrics: { accuracy: 0.91, "val.loss": 0.2 } },
    });
    expect((parseLine("::checkpoint epoch=3") as { error: string }).error).toBe("::checkpoint: dir= is required");
    expect((parseLine("::checkpoint dir=x epoch=3 metric.=1") as { error: string }).error).toContain("unknown key metric.");
  });

  it("register: a committed epoch or a directory, and optionally the model, version and description", () => {
    expect(parseLine('::register epoch=5 model=fraud version=1.2.0 description="from epoch 5"')).toEqual({
      request: { verb: "register", epoch: 5, model: "fraud", version: "1.2.0", description: "from epoch 5" },
    });
    expect(parseLine("::register dir=/tmp/out")).toEqual({ request: { verb: "register", dir: "/tmp/out" } });
    expect((parseLine("::register model=m") as { error: string }).error).toContain("give epoch= (a committed checkpoint) or dir=");
    expect((parseLine("::register epoch=1 dir=x") as { error: string }).error).toContain("one of them");
  });
});

describe("key=value pairs", () => {
  it("reads bare and quoted values, escapes, empty values and extra spaces", () => {
    expect([...parsePairs(' a=1  b="x y" c= d="q\\"\\\\\\n\\t\\r" e=x=y\t')]).toEqual([
      ["a", "1"],
      ["b", "x y"],
      ["c", ""],
      ["d", 'q"\\\n\t\r'],
      ["e", "x=y"],
    ]);
    expect([...parsePairs(' m="ünïcødé ✓"')]).toEqual([["m", "ünïcødé ✓"]]);
  });

  it("refuses what is not key=value, naming where", () => {
    for (const [text, why] of [
      [" a=1 a=2", "a is given twice"],
      [' a="open', 'the quoted value of a has no closing "'],
      [' a="x"b', "expected a space after the quoted value of a"],
      [' a=x"y', 'the value of a has a " inside'],
      [" a=1 junk", 'expected key=value at "junk"'],
      [" 1a=1", 'expected key=value at "1a=1"'],
      [' a="\\q"', "\\q is not an escape"],
    ]) {
      expect(() => parsePairs(text!), text).toThrow(why!);
    }
  });

  it("strips a carriage return at the end of a line (a program writing CRLF)", () => {
    expect(parseLine("::metric name=a value=1 step=1\r")).toEqual({ request: { verb: "metric", name: "a", value: 1, step: 1 } });
  });
});

describe("replies", () => {
  it("quote values only when needed, and read back with the same grammar", () => {
    expect(formatValue("workspaces/w/tasks/t/checkpoints/3")).toBe("workspaces/w/tasks/t/checkpoints/3");
    expect(formatValue("")).toBe('""');
    const message = 'no such directory: "./ckpt 3"\\x\n';
    const line = formatReply("error", "checkpoint", { epoch: 3, message });
    expect(line).toBe('::error checkpoint epoch=3 message="no such directory: \\"./ckpt 3\\"\\\\x\\n"');
    expect(Object.fromEntries(parsePairs(line.slice("::error checkpoint".length)))).toEqual({ epoch: "3", message });
  });
});
