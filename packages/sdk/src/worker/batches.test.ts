import { describe, expect, it } from "vitest";
import { type Batch, cutLine, dropOldest, linesOf, MAX_LINE_BYTES, MAX_LINES, MAX_POINTS, type PendingLine, pointOf, takeBatch } from "./batches.js";

const t = new Date(0);
const line = (text: string): PendingLine => ({ text, stream: "", time: t });

describe("report batches", () => {
  it("cuts a batch at 1,000 points and 1,000 lines, in order", () => {
    const pending: Batch = {
      logs: Array.from({ length: 2500 }, (_, i) => line(`line ${i}`)),
      metrics: Array.from({ length: 1200 }, (_, i) => pointOf("loss", 1 / (i + 1), i, undefined, t)),
    };
    const first = takeBatch(pending);
    expect(first.metrics).toHaveLength(MAX_POINTS);
    expect(first.logs).toHaveLength(MAX_LINES);
    expect(first.logs[0]!.text).toBe("line 0");
    const second = takeBatch(pending);
    expect(second.metrics.map((p) => p.step)).toEqual(Array.from({ length: 200 }, (_, i) => 1000 + i));
    expect(second.logs[0]!.text).toBe("line 1000");
    expect(takeBatch(pending).logs).toHaveLength(500);
    expect(pending.logs).toHaveLength(0);
  });

  it("keeps a batch of long lines under 1 MiB", () => {
    const long = "x".repeat(MAX_LINE_BYTES);
    const pending: Batch = { logs: Array.from({ length: 200 }, () => line(long)), metrics: [] };
    const batch = takeBatch(pending);
    const bytes = batch.logs.reduce((n, l) => n + Buffer.byteLength(l.text) + 16, 0);
    expect(batch.logs.length).toBeGreaterThan(10);
    expect(bytes).toBeLessThanOrEqual(1 << 20);
    expect(batch.logs.length + pending.logs.length).toBe(200);
  });

  it("splits text at newlines and cuts lines to 16 KiB of UTF-8 as the server does", () => {
    expect(linesOf("a\nb\r\nc\n", "stdout", t).map((l) => l.text)).toEqual(["a", "b", "c"]);
    expect(linesOf("", "", t).map((l) => l.text)).toEqual([""]);
    const cut = cutLine("é".repeat(MAX_LINE_BYTES));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(cut.endsWith("é…")).toBe(true);
    expect(() => linesOf("x", "Standard Out", t)).toThrow(/not a stream name/);
  });

  it("refuses what the server would refuse, where the handler calls", () => {
    expect(() => pointOf("val loss", 1, 0, undefined, t)).toThrow(/not a metric name/);
    expect(() => pointOf("loss", Number.NaN, 0, undefined, t)).toThrow(/finite/);
    expect(() => pointOf("loss", 1, -1, undefined, t)).toThrow(/step/);
    expect(() => pointOf("loss", 1, 1.5, undefined, t)).toThrow(/step/);
    expect(() => pointOf("loss", 1, 0, -2, t)).toThrow(/epoch/);
    expect(pointOf("val/loss", 0.5, 3, 1, t)).toMatchObject({ name: "val/loss", value: 0.5, step: 3, epoch: 1 });
  });

  it("drops the oldest past a bound", () => {
    const list = [1, 2, 3, 4, 5];
    expect(dropOldest(list, 3)).toBe(2);
    expect(list).toEqual([3, 4, 5]);
    expect(dropOldest(list, 3)).toBe(0);
  });
});
