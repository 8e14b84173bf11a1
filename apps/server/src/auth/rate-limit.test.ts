import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "../domain/ports/limiter.js";
import { createConcurrencyLimiter, createRateLimiter } from "./rate-limit.js";

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

describe("rate limiter", () => {
  it("allows a burst, then refuses with the time until the next token", () => {
    const c = clock();
    const rl = createRateLimiter({ ratePerSecond: 10, burst: 5, now: c.now });
    for (let i = 0; i < 5; i++) expect(rl.take("a")).toEqual({ ok: true });
    expect(rl.take("a")).toEqual({ ok: false, retryAfterMs: 100 });
    c.advance(30);
    expect(rl.take("a")).toEqual({ ok: false, retryAfterMs: 70 });
  });

  it("peeks at what take() would answer without spending", () => {
    const c = clock();
    const rl = createRateLimiter({ ratePerSecond: 10, burst: 2, now: c.now });
    expect(rl.peek("a")).toEqual({ ok: true });
    expect(rl.size).toBe(0);
    rl.take("a");
    for (let i = 0; i < 3; i++) expect(rl.peek("a")).toEqual({ ok: true });
    rl.take("a");
    expect(rl.peek("a")).toEqual({ ok: false, retryAfterMs: 100 });
    c.advance(100);
    expect(rl.peek("a")).toEqual({ ok: true });
    expect(rl.take("a")).toEqual({ ok: true });
  });

  it("refills from elapsed time, never above the burst", () => {
    const c = clock();
    const rl = createRateLimiter({ ratePerSecond: 10, burst: 3, now: c.now });
    for (let i = 0; i < 3; i++) rl.take("a");
    c.advance(100);
    expect(rl.take("a").ok).toBe(true);
    expect(rl.take("a").ok).toBe(false);
    c.advance(60_000);
    for (let i = 0; i < 3; i++) expect(rl.take("a").ok).toBe(true);
    expect(rl.take("a").ok).toBe(false);
  });

  it("succeeds when retried exactly after retryAfterMs", () => {
    const c = clock();
    const rl = createRateLimiter({ ratePerSecond: 3, burst: 1, now: c.now });
    rl.take("a");
    for (let i = 0; i < 20; i++) {
      const r = rl.take("a");
      expect(r.ok).toBe(false);
      c.advance((r as { retryAfterMs: number }).retryAfterMs);
      expect(rl.take("a").ok).toBe(true);
    }
  });

  it("sustains the rate over time", () => {
    const c = clock();
    const rl = createRateLimiter({ ratePerSecond: 50, burst: 10, now: c.now });
    let ok = 0;
    // Ten seconds of one attempt per millisecond.
    for (let i = 0; i < 10_000; i++) {
      if (rl.take("a").ok) ok++;
      c.advance(1);
    }
    expect(ok).toBeGreaterThanOrEqual(500);
    expect(ok).toBeLessThanOrEqual(510);
  });

  it("keeps keys independent", () => {
    const c = clock();
    const rl = createRateLimiter({ ratePerSecond: 1, burst: 2, now: c.now });
    rl.take("a");
    rl.take("a");
    expect(rl.take("a").ok).toBe(false);
    expect(rl.take("b").ok).toBe(true);
    expect(rl.take("b").ok).toBe(true);
    expect(rl.take("b").ok).toBe(false);
  });

  it("does not drain tokens when the clock goes back", () => {
    const c = clock();
    const rl = createRateLimiter({ ratePerSecond: 1, burst: 2, now: c.now });
    rl.take("a");
    c.set(0);
    expect(rl.take("a").ok).toBe(true);
  });

  it("holds at most maxKeys buckets, evicting the least recently used", () => {
    const c = clock();
    const rl = createRateLimiter({ ratePerSecond: 1, burst: 1, now: c.now, maxKeys: 3 });
    for (let i = 0; i < 1_000; i++) rl.take(`k${i}`);
    expect(rl.size).toBe(3);

    const r = createRateLimiter({ ratePerSecond: 1, burst: 1, now: c.now, maxKeys: 2 });
    r.take("a");
    r.take("b");
    expect(r.take("a").ok).toBe(false); // a is now the most recently used
    r.take("c"); // evicts b
    expect(r.take("a").ok).toBe(false); // a was kept: still empty
    expect(r.take("b").ok).toBe(true); // b was forgotten: comes back full
  });

  it("refuses nonsense options", () => {
    expect(() => createRateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => createRateLimiter({ ratePerSecond: Number.NaN, burst: 1 })).toThrow(RangeError);
    expect(() => createRateLimiter({ ratePerSecond: 1, burst: 0.5 })).toThrow(RangeError);
    expect(() => createRateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 0 })).toThrow(RangeError);
  });

  it("works with the default monotonic clock", () => {
    const rl = createRateLimiter({ ratePerSecond: 1, burst: 1 });
    expect(rl.take("a").ok).toBe(true);
    const r = rl.take("a");
    expect(r.ok).toBe(false);
    expect((r as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(900);
  });
});

describe("concurrency limiter", () => {
  it("allows up to max in flight per key and frees a slot on release", () => {
    const cl = createConcurrencyLimiter({ max: 2 });
    const a1 = cl.acquire("a");
    const a2 = cl.acquire("a");
    expect(a1.ok && a2.ok).toBe(true);
    expect(cl.acquire("a")).toEqual({ ok: false });
    expect(cl.acquire("b").ok).toBe(true);
    expect(cl.inFlight("a")).toBe(2);
    if (a1.ok) a1.release();
    expect(cl.inFlight("a")).toBe(1);
    expect(cl.acquire("a").ok).toBe(true);
    expect(cl.acquire("a").ok).toBe(false);
  });

  it("treats a second release as a no-op", () => {
    const cl = createConcurrencyLimiter({ max: 2 });
    const a1 = cl.acquire("a");
    const a2 = cl.acquire("a");
    if (!a1.ok || !a2.ok) throw new Error("expected slots");
    a1.release();
    a1.release();
    a1.release();
    expect(cl.inFlight("a")).toBe(1); // a2 still holds its slot
    a2.release();
    a2.release();
    expect(cl.inFlight("a")).toBe(0);
    expect(cl.acquire("a").ok).toBe(true);
    expect(cl.acquire("a").ok).toBe(true);
    expect(cl.acquire("a").ok).toBe(false);
  });

  it("refuses a max below 1", () => {
    expect(() => createConcurrencyLimiter({ max: 0 })).toThrow(RangeError);
    expect(() => createConcurrencyLimiter({ max: 1.5 })).toThrow(RangeError);
  });
});

describe("ResourceExhaustedError", () => {
  it("says which limit was hit and when to retry", () => {
    const e = ResourceExhaustedError.rateLimited("access key AK7F2", 50, 119.2);
    expect(e.message).toBe("access key AK7F2 exceeded 50 requests/s; retry after 120 ms");
    expect(e).toMatchObject({ reason: "RATE_LIMITED", retryAfterMs: 120, name: "ResourceExhaustedError" });
    expect(e.metadata).toEqual({ limit: "50", retry_after_ms: "120" });

    const c = ResourceExhaustedError.tooManyConcurrent("access key AK7F2", 8);
    expect(c.reason).toBe("TOO_MANY_CONCURRENT");
    expect(c.retryAfterMs).toBe(1000);
    expect(c.message).toMatch(/^access key AK7F2 already has 8 requests in flight.*retry after 1000 ms/);
  });
});
