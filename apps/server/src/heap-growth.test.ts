import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { growingPercent, limitHeapGrowth, MIN_HEADROOM_BYTES, oldGenerationBytes } from "./heap-growth.js";

const MB = 1 << 20;

/** A full collection now (the flag only makes gc() reachable; it changes nothing else). */
function collect(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}

describe("growingPercent", () => {
  it("keeps the configured percent once it leaves at least the floor of room", () => {
    expect(growingPercent(200 * MB, 50)).toBe(50); // 100 MB of room
    expect(growingPercent(128 * MB, 50)).toBe(50); // exactly 64 MiB
  });

  it("raises the percent on a small heap until the room is at least the floor", () => {
    // modelreg's own heap after start: ~27 MB; half of it is ~13 MB of room.
    const p = growingPercent(27 * MB, 50);
    expect(p).toBe(240);
    expect((27 * MB * p) / 100).toBeGreaterThanOrEqual(MIN_HEADROOM_BYTES);
    expect((27 * MB * (p - 10)) / 100).toBeLessThan(MIN_HEADROOM_BYTES); // and no more than a step above it
    expect(growingPercent(64 * MB, 50)).toBe(100);
  });

  it("takes another floor, and an unknown size as no information", () => {
    expect(growingPercent(10 * MB, 50, 20 * MB)).toBe(200);
    expect(growingPercent(0, 50)).toBe(50);
    expect(growingPercent(Number.NaN, 50)).toBe(50);
  });
});

describe("limitHeapGrowth", () => {
  it("sets nothing with 0, which leaves V8's own growing factor", () => {
    const set: string[] = [];
    expect(limitHeapGrowth(0, { setFlags: (f) => set.push(f) })).toBeUndefined();
    expect(set).toEqual([]);
  });

  it("sets the percent for this heap at once, and again after a collection changes the heap's size", async () => {
    const set: string[] = [];
    // A floor so large that every size gives its own percent, so a changed heap shows as a new flag.
    const floor = 1024 * 1024 * MB;
    const growth = limitHeapGrowth(50, { minHeadroom: floor, setFlags: (f) => set.push(f) })!;
    try {
      expect(set).toEqual([`--heap-growing-percent=${growth.percent}`]);
      expect(growth.percent).toBe(growingPercent(oldGenerationBytes(), 50, floor));

      // 40 MB of objects kept through two collections end up in the old generation.
      const kept = Array.from({ length: 40_000 }, (_, i) => ({ i, pad: "x".repeat(1000) + i }));
      collect();
      collect();
      await until(() => set.length >= 2);
      const expected = growingPercent(oldGenerationBytes(), 50, floor);
      const got = Number(/^--heap-growing-percent=(\d+)$/.exec(set.at(-1)!)?.[1]);
      expect(growth.percent).toBe(got);
      // Set from the size the observer saw, a moment before this one.
      expect(Math.abs(got - expected) / expected).toBeLessThan(0.05);
      expect(kept.length).toBe(40_000);
    } finally {
      growth.stop();
    }
  });
});
