import { describe, expect, it } from "vitest";
import { createRateMeter, eta, formatEta, MAX_ETA_SECONDS, MIN_ELAPSED_MS } from "./eta.js";

const MiB = 1 << 20;

describe("createRateMeter", () => {
  it("shows no rate or ETA until enough time and bytes have passed", () => {
    const m = createRateMeter();
    expect(m.sample(0, 100 * MiB, 0)).toEqual({ rate: undefined, etaSeconds: undefined });
    // Lots of bytes, too little time: nothing.
    expect(m.sample(50 * MiB, 100 * MiB, 10)).toEqual({ rate: undefined, etaSeconds: undefined });
    // Enough time, then a sensible figure.
    expect(m.sample(50 * MiB, 100 * MiB, MIN_ELAPSED_MS)).toEqual({ rate: 50 * MiB, etaSeconds: 1 });
  });

  it("shows nothing while too few bytes have moved, however long it has been", () => {
    const m = createRateMeter();
    m.sample(0, 10 * MiB, 0);
    expect(m.sample(10, 10 * MiB, 60_000)).toEqual({ rate: undefined, etaSeconds: undefined });
  });

  it("counts bytes moved in this run only: a resume that starts at 90% is not 90% fast", () => {
    const m = createRateMeter();
    m.sample(90 * MiB, 100 * MiB, 0);
    const e = m.sample(91 * MiB, 100 * MiB, 1_000);
    expect(e.rate).toBe(MiB);
    expect(e.etaSeconds).toBe(9);
  });

  it("measures over a sliding window, so a slowdown shows and the ETA grows", () => {
    const m = createRateMeter();
    for (let s = 0; s <= 20; s++) m.sample(s * 10 * MiB, 1000 * MiB, s * 1000);
    // Then 1 MiB/s for 20 s.
    let e = m.sample(200 * MiB, 1000 * MiB, 20_000);
    for (let s = 1; s <= 20; s++) e = m.sample((200 + s) * MiB, 1000 * MiB, 20_000 + s * 1000);
    expect(e.rate).toBeCloseTo(MiB, -3);
    expect(e.etaSeconds).toBeGreaterThan(700);
  });

  it("never gives a negative, infinite, NaN or absurd ETA", () => {
    const m = createRateMeter();
    m.sample(0, 10 * MiB, 0);
    // Past the total (the server held more than announced): done, not negative.
    expect(m.sample(11 * MiB, 10 * MiB, 2_000).etaSeconds).toBe(0);
    // A crawl: 100 KiB in a day, a petabyte to go.
    const slow = createRateMeter();
    slow.sample(0, 2 ** 50, 0);
    expect(slow.sample(100 << 10, 2 ** 50, 86_400_000)).toMatchObject({ etaSeconds: undefined });
    expect(eta(100, 0)).toBeUndefined();
    expect(eta(100, Number.NaN)).toBeUndefined();
    expect(eta(100, Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(eta(100, 0.001)).toBeUndefined();
    expect(eta(MAX_ETA_SECONDS * 10, 1)).toBeUndefined();
    expect(eta(0, 0)).toBe(0);
    expect(eta(-5, 1)).toBe(0);
  });

  it("starts again when the count goes back (a file started over)", () => {
    const m = createRateMeter();
    m.sample(0, 10 * MiB, 0);
    m.sample(5 * MiB, 10 * MiB, 2_000);
    expect(m.sample(MiB, 10 * MiB, 2_500)).toEqual({ rate: undefined, etaSeconds: undefined });
  });
});

describe("formatEta", () => {
  it("reads as seconds, minutes or hours; a dash when unknown", () => {
    expect(formatEta(0)).toBe("0s");
    expect(formatEta(45)).toBe("45s");
    expect(formatEta(187)).toBe("3m07s");
    expect(formatEta(7500)).toBe("2h05m");
    for (const bad of [undefined, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(formatEta(bad)).toBe("-");
  });
});
