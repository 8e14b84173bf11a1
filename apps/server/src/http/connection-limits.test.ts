// Which peer a connection counts against, and the per-peer count itself.
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { createPeerLimiter, createRefusalLog, peerOf } from "./connection-limits.js";

describe("peerOf", () => {
  it("is the IPv4 address, also when it comes mapped into IPv6", () => {
    expect(peerOf("203.0.113.7")).toBe("203.0.113.7");
    expect(peerOf("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("is the /64 of an IPv6 address, however it is written", () => {
    expect(peerOf("2001:db8:0:1::5")).toBe("2001:db8:0:1::/64");
    expect(peerOf("2001:0DB8:0000:0001:ffff:0:0:9")).toBe("2001:db8:0:1::/64");
    expect(peerOf("::1")).toBe("0:0:0:0::/64");
    expect(peerOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("puts connections whose address is gone together", () => {
    expect(peerOf(undefined)).toBe("unknown");
  });
});

/** Just what the limiter reads of a socket: its address and its close event. */
function socketFrom(remoteAddress: string): Socket & EventEmitter {
  return Object.assign(new EventEmitter(), { remoteAddress }) as unknown as Socket & EventEmitter;
}

describe("createPeerLimiter", () => {
  it("admits up to the limit per peer, and again once one closes", () => {
    const limiter = createPeerLimiter(2);
    const a = [socketFrom("10.0.0.1"), socketFrom("10.0.0.1"), socketFrom("10.0.0.1")];
    expect(a.map((s) => limiter.admit(s))).toEqual([true, true, false]);
    expect(limiter.admit(socketFrom("10.0.0.2"))).toBe(true); // another peer
    expect(limiter.admit(socketFrom("2001:db8::1"))).toBe(true);
    expect(limiter.admit(socketFrom("2001:db8::2"))).toBe(true);
    expect(limiter.admit(socketFrom("2001:db8::3"))).toBe(false); // the same /64
    a[0]!.emit("close");
    expect(limiter.admit(socketFrom("10.0.0.1"))).toBe(true);
    expect(limiter.open.get("10.0.0.1")).toBe(2);
  });
});

describe("createRefusalLog", () => {
  it("logs the first refusal of a kind at once and the rest as one summary per window", async () => {
    const logged: { obj: Record<string, unknown>; msg: string }[] = [];
    const log = createRefusalLog({ warn: (obj, msg) => logged.push({ obj: obj as Record<string, unknown>, msg }) }, { full: "refused: full" }, 50);
    log.note("full", "10.0.0.1");
    expect(logged).toEqual([{ obj: { reason: "full", peer: "10.0.0.1" }, msg: "refused: full" }]);
    for (let i = 0; i < 5; i++) log.note("full", i < 4 ? "10.0.0.2" : "10.0.0.3");
    expect(logged).toHaveLength(1);
    while (logged.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(logged[1]!.obj).toMatchObject({ reason: "full", count: 5, topPeers: { "10.0.0.2": 4, "10.0.0.3": 1 } });
  });
});
