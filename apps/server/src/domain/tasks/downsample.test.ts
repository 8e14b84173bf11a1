import { describe, expect, it } from "vitest";
import { largestTriangleThreeBuckets } from "./downsample.js";

type P = { x: number; y: number };
const lttb = (points: P[], max: number) => largestTriangleThreeBuckets(points, max, (p) => p.x, (p) => p.y);
const series = (n: number, f: (x: number) => number): P[] => Array.from({ length: n }, (_, x) => ({ x, y: f(x) }));

describe("largest-triangle-three-buckets", () => {
  it("keeps every point of a series that fits", () => {
    const s = series(10, (x) => x * x);
    expect(lttb(s, 10)).toEqual(s);
    expect(lttb(s, 1000)).toEqual(s);
    expect(lttb([], 5)).toEqual([]);
  });

  it("returns exactly max points, in order, the first and last among them", () => {
    const s = series(10_000, (x) => Math.sin(x / 100) + (x % 7) / 10);
    for (const max of [3, 10, 99, 1000]) {
      const d = lttb(s, max);
      expect(d).toHaveLength(max);
      expect(d[0]).toBe(s[0]);
      expect(d.at(-1)).toBe(s.at(-1));
      for (let i = 1; i < d.length; i++) expect(d[i]!.x).toBeGreaterThan(d[i - 1]!.x);
    }
  });

  it("keeps a lone spike that a stride would skip", () => {
    const s = series(1001, (x) => (x === 537 ? 100 : 0));
    const d = lttb(s, 20);
    expect(d.map((p) => p.x)).toContain(537);
    // A stride of 50 lands on 500 and 550, never on 537.
    expect(s.filter((_, i) => i % 50 === 0).map((p) => p.x)).not.toContain(537);
  });

  it("keeps the ends alone when max is below 3", () => {
    const s = series(100, (x) => x);
    expect(lttb(s, 2)).toEqual([s[0], s[99]]);
    expect(lttb(s, 1)).toEqual([s[0]]);
    expect(lttb(s, 0)).toEqual([]);
  });
});
