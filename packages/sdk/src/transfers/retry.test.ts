import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { asConnectError, backoffMs, isNetworkError, isRetryable, retryAfterMs, withResume } from "./retry.js";

const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const reset = () => Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });

describe("classification", () => {
  it("treats broken connections, overload and stalls as retryable", () => {
    expect(isNetworkError(reset())).toBe(true);
    expect(isNetworkError(new Error("socket hang up"))).toBe(true);
    expect(isNetworkError(new Error("boom"))).toBe(false);
    expect(asConnectError(reset()).code).toBe(Code.Unavailable);
    expect(isRetryable(new ConnectError("x", Code.Unavailable))).toBe(true);
    expect(isRetryable(new ConnectError("x", Code.ResourceExhausted))).toBe(true);
    expect(isRetryable(new ConnectError("x", Code.DeadlineExceeded))).toBe(true);
    expect(isRetryable(new ConnectError("x", Code.Internal, undefined, undefined, reset()))).toBe(true);
    for (const code of [Code.NotFound, Code.InvalidArgument, Code.FailedPrecondition, Code.PermissionDenied, Code.Internal]) {
      expect(isRetryable(new ConnectError("x", code))).toBe(false);
    }
  });

  it("honours Retry-After and backs off exponentially otherwise", () => {
    expect(retryAfterMs(new ConnectError("x", Code.ResourceExhausted, { "retry-after": "2" }))).toBe(2000);
    expect(retryAfterMs(new ConnectError("x", Code.Unavailable))).toBeUndefined();
    const p = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(1, p)).toBeGreaterThanOrEqual(50);
    expect(backoffMs(1, p)).toBeLessThanOrEqual(100);
    expect(backoffMs(4, p)).toBeGreaterThanOrEqual(400);
    expect(backoffMs(10, p)).toBeLessThanOrEqual(1000);
    expect(backoffMs(1, p, 1500)).toBe(1500);
  });
});

describe("withResume", () => {
  it("retries until success and tells the attempt it is a retry", async () => {
    const seen: number[] = [];
    const result = await withResume(
      async (retry) => {
        seen.push(retry);
        if (retry < 2) throw reset();
        return "ok";
      },
      { policy, signal: undefined, progress: () => 0 },
    );
    expect(result).toBe("ok");
    expect(seen).toEqual([0, 1, 2]);
  });

  it("gives up after the attempts without progress, with the last error", async () => {
    let n = 0;
    await expect(
      withResume(
        async () => {
          n++;
          throw reset();
        },
        { policy, signal: undefined, progress: () => 0 },
      ),
    ).rejects.toMatchObject({ code: Code.Unavailable });
    expect(n).toBe(3);
  });

  it("starts counting again after progress", async () => {
    let pos = 0;
    let n = 0;
    await withResume(
      async () => {
        n++;
        if (pos < 5) {
          pos++;
          throw reset();
        }
      },
      { policy, signal: undefined, progress: () => pos },
    );
    expect(n).toBe(6);
  });

  it("passes local errors through as they are", async () => {
    const full = Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    let n = 0;
    const err = await withResume(
      async () => {
        n++;
        throw full;
      },
      { policy, signal: undefined, progress: () => 0 },
    ).catch((e) => e);
    expect(err).toBe(full);
    expect(n).toBe(1);
  });

  it("does not retry final errors or the caller's abort", async () => {
    let n = 0;
    await expect(
      withResume(
        async () => {
          n++;
          throw new ConnectError("gone", Code.NotFound);
        },
        { policy, signal: undefined, progress: () => 0 },
      ),
    ).rejects.toMatchObject({ code: Code.NotFound });
    expect(n).toBe(1);
    const ac = new AbortController();
    await expect(
      withResume(
        async () => {
          ac.abort();
          throw reset();
        },
        { policy, signal: ac.signal, progress: () => 0 },
      ),
    ).rejects.toMatchObject({ code: Code.Canceled });
  });
});
