// Phase 3, watch delivery: `tasks` tasks reported on once a second (as in
// phase 2), each watched by watchers/tasks WatchTask streams (over
// `connections` HTTP/2 connections). A report is delivered to a watcher
// when the watcher holds the report's last log line; its delay runs from
// the ReportProgress call returning (the report committed) to that moment.
// Reports due in the first `warmupSeconds` are not counted. The baseline:
// the raw report transaction, and watchers woken by one LISTEN that read
// by sequence number through a pool the size of the server's, as the
// server's watch does.
import { setMaxListeners } from "node:events";
import { type Api, lastLineTag, now, reportRequest, sleep, until } from "./common.js";
import { RAW_CHANNEL, type RawSide } from "./raw.js";
import { finishHeld, holdRawTasks, holdTasks, type PacedResult, paced, type ReportShape } from "./report.js";

export interface WatchOptions {
  tasks: number;
  watchers: number;
  seconds: number;
  warmupSeconds: number;
  shape: ReportShape;
}

export interface WatchResult {
  /** ms from a report returning to a watcher holding its last line, per (watcher, report). */
  delays: number[];
  /** Deliveries that came before their report's call returned (counted as 0). */
  early: number;
  /** Deliveries expected that never came (within 15 s after the last report). */
  missing: number;
  expected: number;
  errors: number;
  firstError: unknown;
  reports: PacedResult;
}

/** Delivery times by `<task index>:<report k>`, and the delays they make. */
function deliveries(o: WatchOptions) {
  const at = new Map<string, number[]>();
  const perTask = (ti: number) => Math.floor(o.watchers / o.tasks) + (ti < o.watchers % o.tasks ? 1 : 0);
  const tag = lastLineTag(o.shape.lines);
  let count = 0;
  return {
    seen(ti: number, texts: Iterable<string>) {
      const t = now();
      for (const text of texts) {
        const hit = tag.exec(text);
        if (!hit) continue;
        const key = `${ti}:${hit[1]}`;
        const list = at.get(key) ?? [];
        list.push(t);
        at.set(key, list);
        count++;
      }
    },
    /** Settles once every report returned so far reached all its watchers, or after 15 s. */
    async settle(reports: PacedResult) {
      const want = () => [...reports.returned.keys()].reduce((s, key) => s + perTask(Number(key.split(":")[0])), 0);
      await until(() => count >= want(), "deliveries", 15_000, 20).catch(() => {});
    },
    result(reports: PacedResult, errors: number, firstError: unknown): WatchResult {
      const r: WatchResult = { delays: [], early: 0, missing: 0, expected: 0, errors, firstError, reports };
      for (const [key, returned] of reports.returned) {
        const [ti, k] = key.split(":").map(Number) as [number, number];
        if (k < o.warmupSeconds) continue;
        const got = at.get(key) ?? [];
        r.expected += perTask(ti);
        r.missing += Math.max(0, perTask(ti) - got.length);
        for (const t of got) {
          if (t < returned) r.early++;
          r.delays.push(Math.max(0, t - returned));
        }
      }
      return r;
    },
  };
}

export async function watchModelreg(reporters: Api[], watchApis: Api[], o: WatchOptions): Promise<WatchResult> {
  const held = await holdTasks(reporters, "watch", "watch");
  const d = deliveries(o);
  const stop = new AbortController();
  // Every stream listens on the one signal.
  setMaxListeners(o.watchers + 10, stop.signal);
  let ready = 0;
  let errors = 0;
  let firstError: unknown;
  const watch = async (w: number) => {
    const ti = w % held.length;
    const api = watchApis[w % watchApis.length]!;
    try {
      for await (const m of api.tasks.watchTask({ name: held[ti]!.name, afterSeq: BigInt(held[ti]!.lastSeq) }, { signal: stop.signal })) {
        if (m.kind.case === "task") ready++;
        else if (m.kind.case === "event" && m.kind.value.kind.case === "logs") d.seen(ti, m.kind.value.kind.value.lines.map((l) => l.text));
      }
    } catch (err) {
      if (!stop.signal.aborted) [errors, firstError] = [errors + 1, firstError ?? err];
    }
  };
  const streams = Array.from({ length: o.watchers }, (_, w) => watch(w));
  try {
    await until(() => ready + errors >= o.watchers, `${o.watchers} WatchTask streams to open`);
    const reports = await paced(held.length, o.seconds, o.warmupSeconds, o.shape, async (i, b) => {
      await held[i]!.api.workers.reportProgress(reportRequest(held[i]!.leaseToken, b));
    });
    await d.settle(reports);
    return d.result(reports, errors, firstError);
  } finally {
    stop.abort();
    await Promise.allSettled(streams);
    await finishHeld(held);
  }
}

/** A level-triggered wake-up: one that comes while nobody waits is kept for the next wait. */
function waker() {
  let pending = false;
  let resolve: (() => void) | undefined;
  return {
    wake() {
      pending = true;
      resolve?.();
    },
    async wait(ms: number) {
      if (!pending) await Promise.race([new Promise<void>((r) => (resolve = r)), sleep(ms)]);
      resolve = undefined;
      pending = false;
    },
  };
}

export async function watchRaw(raw: RawSide, o: WatchOptions, params: Record<string, unknown>): Promise<WatchResult> {
  const held = await holdRawTasks(raw, o.tasks, "watch", params);
  const d = deliveries(o);
  const byTask = new Map<string, Set<() => void>>(held.map((t) => [t.id, new Set()]));
  const listening = await raw.sql.listen(RAW_CHANNEL, (payload) => {
    const [kind, id] = payload.split(" ");
    if (kind === "e") for (const wake of byTask.get(id!) ?? []) wake();
  });
  let stopped = false;
  let errors = 0;
  let firstError: unknown;
  const watch = async (w: number) => {
    const ti = w % held.length;
    const id = held[ti]!.id;
    const wk = waker();
    byTask.get(id)!.add(wk.wake);
    let cursor = 0;
    while (!stopped) {
      try {
        const page = await raw.readAfter(id, cursor);
        d.seen(ti, page.lines);
        cursor = page.through;
        if (!page.more) await wk.wait(1000);
      } catch (err) {
        [errors, firstError] = [errors + 1, firstError ?? err];
        await sleep(100);
      }
    }
  };
  const watchers = Array.from({ length: o.watchers }, (_, w) => watch(w));
  try {
    const reports = await paced(held.length, o.seconds, o.warmupSeconds, o.shape, (i, b) => raw.report(held[i]!, b, 30));
    await d.settle(reports);
    return d.result(reports, errors, firstError);
  } finally {
    stopped = true;
    for (const set of byTask.values()) for (const wake of set) wake();
    await Promise.allSettled(watchers);
    await listening.unlisten();
    await raw.finishAll();
  }
}
