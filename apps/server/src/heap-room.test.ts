import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it, vi } from "vitest";
import { growingPercent, limitHeapGrowth, oldGenerationBytes, QUIET_ROOM_BYTES } from "./heap-room.js";

const MiB = 1 << 20;

describe("growingPercent", () => {
  it("gives the percent when it leaves the least room or more", () => {
    expect(growingPercent(100 * MiB, 50, 32 * MiB)).toBe(50);
    expect(growingPercent(64 * MiB, 50, 32 * MiB)).toBe(50);
  });

  it("gives the percent alone to a heap that kept the least room's worth or more", () => {
    expect(growingPercent(32 * MiB, 50, 32 * MiB)).toBe(50);
    expect(growingPercent(51 * MiB, 50, 32 * MiB)).toBe(50);
  });

  it("raises the percent, in steps of ten, until a small heap gets the least room", () => {
    expect(growingPercent(24 * MiB, 50, 32 * MiB)).toBe(140); // 133.3% rounded up
    expect(growingPercent(16 * MiB, 50, 32 * MiB)).toBe(200);
  });

  it("gives the percent for a heap it cannot read", () => {
    expect(growingPercent(0, 50, 32 * MiB)).toBe(50);
    expect(growingPercent(Number.NaN, 50, 32 * MiB)).toBe(50);
  });
});

describe("limitHeapGrowth", () => {
  it("gives a quiet heap the least room, the percent alone while bulk bytes move, and the least room again once they stopped for a while", async () => {
    let clock = 0;
    let reads = 0;
    const flags: string[] = [];
    const liveBytes = () => {
      reads++;
      return 24 * MiB;
    };
    const room = limitHeapGrowth(50, { setFlags: (f) => flags.push(f), liveBytes, quietRoom: 32 * MiB, quietAfterMs: 10_000, now: () => clock, collectFully: () => {} });
    expect(flags).toEqual(["--heap-growing-percent=140"]);
    const first = room.bulkActivity();
    expect(flags.at(-1)).toBe("--heap-growing-percent=50");
    const second = room.bulkActivity();
    first();
    first(); // a second call of the same end changes nothing
    second();
    expect(room.percent).toBe(50);
    // The next full collection within QUIET_AFTER_MS keeps the percent; one after it gives the room back.
    clock = 9_999;
    await collectedFully(() => reads);
    expect(room.percent).toBe(50);
    clock = 10_000;
    await collectedFully(() => reads);
    expect(flags).toEqual(["--heap-growing-percent=140", "--heap-growing-percent=50", "--heap-growing-percent=140"]);
    room.stop();
  });

  it("sets nothing, and watches nothing, with a percent of 0 (V8's own factor)", () => {
    const flags: string[] = [];
    const room = limitHeapGrowth(0, { setFlags: (f) => flags.push(f) });
    room.bulkActivity()();
    expect(flags).toEqual([]);
    expect(room.percent).toBe(0);
  });

  it("sets the percent again after a full collection, from the old generation's size then", async () => {
    let live = 24 * MiB;
    const flags: string[] = [];
    const room = limitHeapGrowth(50, { setFlags: (f) => flags.push(f), liveBytes: () => live, quietRoom: 32 * MiB });
    live = 8 * MiB;
    fullCollection();
    await vi.waitFor(() => expect(flags.at(-1)).toBe("--heap-growing-percent=400"), { timeout: 30_000, interval: 5 });
    room.stop();
  });

  it("collects fully when bulk activity starts while V8 works to a room the floor set, once per full collection", async () => {
    const flags: string[] = [];
    let fullCollections = 0;
    let reads = 0;
    const liveBytes = () => {
      reads++;
      return 24 * MiB;
    };
    const room = limitHeapGrowth(50, { setFlags: (f) => flags.push(f), liveBytes, quietRoom: 32 * MiB, collectFully: () => fullCollections++, quietAfterMs: 0 });
    // Before any full collection V8 works to its own first limit: nothing to redo.
    room.bulkActivity()();
    expect(fullCollections).toBe(0);
    await collectedFully(() => reads); // computed with 50%, and gives the room back
    expect(flags.at(-1)).toBe("--heap-growing-percent=140");
    await collectedFully(() => reads); // computed with 140%: the floor is in force
    const end = room.bulkActivity();
    expect(fullCollections).toBe(1);
    expect(flags.at(-1)).toBe("--heap-growing-percent=50");
    end();
    room.bulkActivity()(); // no full collection since: V8's room is still the one the forced collection set
    expect(fullCollections).toBe(1);
    room.stop();
  });

  it("gives 32 MiB of least room by default, as README and the setting's help say", () => {
    const flags: string[] = [];
    const room = limitHeapGrowth(50, { setFlags: (f) => flags.push(f), liveBytes: () => 16 * MiB });
    expect(flags).toEqual(["--heap-growing-percent=200"]);
    expect(QUIET_ROOM_BYTES).toBe(32 * MiB);
    room.stop();
  });

  it("reads a real heap, and V8 takes the flag", () => {
    expect(oldGenerationBytes()).toBeGreaterThan(1 * MiB);
    expect(() => setFlagsFromString("--heap-growing-percent=0")).not.toThrow();
  });
});

/** A real full collection, once the policy has seen it (it reads the heap's size again). */
async function collectedFully(reads: () => number): Promise<void> {
  const before = reads();
  fullCollection();
  await vi.waitFor(() => expect(reads()).toBeGreaterThan(before), { timeout: 30_000, interval: 5 });
}

/** A full collection, with V8's gc function from a context made while --expose-gc is set. */
function fullCollection(): void {
  setFlagsFromString("--expose-gc");
  try {
    (runInNewContext("gc") as () => void)();
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
