import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createTestStore } from "../testing/test-store.js";
import { markBulkActivity } from "./bulk-activity.js";

describe("markBulkActivity", () => {
  const stores: { remove(): void }[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.remove();
  });

  /** A store whose bulk operations are counted: `active` now, and every start and end in order. */
  const marked = () => {
    const t = createTestStore();
    stores.push(t);
    const events: string[] = [];
    let active = 0;
    const store = markBulkActivity(t.store, () => {
      active++;
      events.push("start");
      return () => {
        active--;
        events.push("end");
      };
    });
    return { store, events, active: () => active };
  };

  it("marks a write from its start until it is stored", async () => {
    const { store, events, active } = marked();
    const writing = store.put(Readable.from([Buffer.from("weights")]));
    expect(active()).toBe(1);
    const { sha256 } = await writing;
    expect(active()).toBe(0);
    expect(await store.has(sha256)).toEqual({ size: 7 });
    expect(events).toEqual(["start", "end"]);
  });

  it("marks a read until its stream closes, whether read to its end or dropped", async () => {
    const { store, active } = marked();
    const { sha256 } = await store.put(Readable.from([Buffer.from("weights")]));
    const read = await store.get(sha256);
    expect(active()).toBe(1);
    const chunks: Buffer[] = [];
    for await (const c of read) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("weights");
    await new Promise((r) => (read.closed ? r(undefined) : read.once("close", r)));
    expect(active()).toBe(0);
    const dropped = await store.get(sha256);
    expect(active()).toBe(1);
    dropped.destroy();
    await new Promise((r) => dropped.once("close", r));
    expect(active()).toBe(0);
  });

  it("ends the mark of an operation that fails", async () => {
    const { store, events, active } = marked();
    await expect(store.get("0".repeat(64))).rejects.toThrow();
    await expect(store.append("missing-staging", 0, Readable.from([Buffer.from("x")]))).rejects.toThrow();
    expect(active()).toBe(0);
    expect(events).toEqual(["start", "end", "start", "end"]);
  });

  it("marks staged appends and their commit, and leaves the rest of the store as it is", async () => {
    const { store, events, active } = marked();
    expect(store.kind).toBe("fs");
    await store.createStaging("s1");
    expect(await store.append("s1", 0, Readable.from([Buffer.from("abc")]))).toBe(3);
    expect(await store.stagedSize("s1")).toBe(3);
    const { sha256 } = await store.commitStaging("s1", undefined);
    expect(await store.has(sha256)).toEqual({ size: 3 });
    expect(events).toEqual(["start", "end", "start", "end"]);
    expect(active()).toBe(0);
  });
});
