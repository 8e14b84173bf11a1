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
  const start = (live = 24 * MiB) => {
    const flags: string[] = [];
    const room = limitHeapGrowth(50, { setFlags: (f) => flags.push(f), liveBytes: () => live, quietRoom: 32 * MiB });
    return { flags, room };
  };

  it("gives a quiet heap the least room, and only the percent while bulk bytes move", () => {
    const { flags, room } = start();
    expect(flags).toEqual(["--heap-growing-percent=140"]);
    const first = room.bulkActivity();
    expect(flags.at(-1)).toBe("--heap-growing-percent=50");
    const second = room.bulkActivity();
    first();
    first(); // a second call of the same end changes nothing
    expect(room.percent).toBe(50);
    second();
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
    const room = limitHeapGrowth(50, { setFlags: (f) => flags.push(f), liveBytes, quietRoom: 32 * MiB, collectFully: () => fullCollections++ });
    // Before any full collection V8 works to its own first limit: nothing to redo.
    room.bulkActivity()();
    expect(fullCollections).toBe(0);
    expect(flags.at(-1)).toBe("--heap-growing-percent=140");
    const before = reads;
    fullCollection(); // computed with 140%: the floor is in force
    // The policy has seen the collection once it reads the heap's size again.
    await vi.waitFor(() => expect(reads).toBeGreaterThan(before), { timeout: 30_000, interval: 5 });
    const end = room.bulkActivity();
    expect(fullCollections).toBe(1);
    expect(flags.at(-1)).toBe("--heap-growing-percent=50");
    end();
    room.bulkActivity()(); // no full collection since: V8's room is still the one the forced collection set
    expect(fullCollections).toBe(1);
    room.stop();
  });

  it("reads a real heap, and V8 takes the flag", () => {
    expect(oldGenerationBytes()).toBeGreaterThan(1 * MiB);
    expect(QUIET_ROOM_BYTES).toBe(32 * MiB);
    expect(() => setFlagsFromString("--heap-growing-percent=0")).not.toThrow();
  });
});

/** A full collection, with V8's gc function from a context made while --expose-gc is set. */
function fullCollection(): void {
  setFlagsFromString("--expose-gc");
  try {
    (runInNewContext("gc") as () => void)();
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
