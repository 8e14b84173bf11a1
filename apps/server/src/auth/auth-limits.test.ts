import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "../domain/ports/limiter.js";
import { createAuthLimits, failureBudget } from "./auth-limits.js";

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const caught = (fn: () => void) => {
  try {
    fn();
  } catch (e) {
    return e as ResourceExhaustedError;
  }
  return undefined;
};

describe("failure budgets", () => {
  it("answer the failure over a peer's or key id's budget with ResourceExhausted, and refuse before checking until they refill", () => {
    const c = clock();
    const limits = createAuthLimits({ perPeer: { ratePerSecond: 2, burst: 3 }, perKey: { ratePerSecond: 1, burst: 10 }, now: c.now });
    expect([1, 2, 3].map(() => limits.failed("p", `k${Math.random()}`))).toEqual([undefined, undefined, undefined]);
    expect(caught(() => limits.checkPeer("p"))).toMatchObject({ reason: "TOO_MANY_AUTH_FAILURES", retryAfterMs: 500 });
    const over = limits.failed("p", "k");
    expect(over).toBeInstanceOf(ResourceExhaustedError);
    expect(over!.message).toBe("too many failed authentications from p (at most 3 at once, then 2 a second); retry after 500 ms with a valid access key");
    expect(caught(() => limits.checkPeer("q"))).toBeUndefined();
    expect(caught(() => limits.checkPeer(undefined))).toBeUndefined();
    c.advance(500);
    expect(caught(() => limits.checkPeer("p"))).toBeUndefined();
  });

  it("count a key id's failures from any peer, and none of a peer that is not known", () => {
    const limits = createAuthLimits({ perKey: { ratePerSecond: 1, burst: 2 }, now: clock().now });
    expect(limits.failed(undefined, "k")).toBeUndefined();
    expect(limits.failed("a", "k")).toBeUndefined();
    expect(limits.failed("b", "k")?.message).toMatch(/^too many failed authentications for access key k /);
    expect(caught(() => limits.checkKey("k"))?.reason).toBe("TOO_MANY_AUTH_FAILURES");
  });

  it("take the per-peer budget from AUTH_FAILURES_PER_PEER, where 0 means none", () => {
    expect(failureBudget(50)).toEqual({ ratePerSecond: 5, burst: 50 });
    expect(failureBudget(undefined)).toBeUndefined();
    const unlimited = createAuthLimits({ perPeer: failureBudget(0), perKey: { ratePerSecond: 1, burst: 1000 } });
    for (let i = 0; i < 500; i++) expect(unlimited.failed("p", `k${i}`)).toBeUndefined();
    expect(caught(() => unlimited.checkPeer("p"))).toBeUndefined();
  });
});

describe("slow checks", () => {
  it("run at most so many at once, queue a few in order, and refuse beyond", async () => {
    const limits = createAuthLimits({ slowChecks: { running: 2, waiting: 2 } });
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const release: (() => void)[] = [];
    const task = (i: number) => () =>
      new Promise<number>((resolve) => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        release[i] = () => {
          running--;
          resolve(i);
        };
      });
    const results = [0, 1, 2, 3, 4].map((i) => limits.slow(task(i)).catch((e: unknown) => e));
    expect(await results[4]).toBeInstanceOf(ResourceExhaustedError);
    expect((await results[4]) as ResourceExhaustedError).toMatchObject({ reason: "TOO_MANY_CONCURRENT" });
    expect(started).toEqual([0, 1]);
    release[1]!();
    expect(await results[1]).toBe(1);
    // The freed slot goes to the first waiting (its task starts once the hand-over is seen).
    while (started.length < 3) await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const i of [0, 2]) release[i]!();
    while (started.length < 4) await new Promise((r) => setImmediate(r));
    release[3]!();
    expect(await Promise.all(results.slice(0, 4))).toEqual([0, 1, 2, 3]);
    expect(most).toBe(2);
  });
});
