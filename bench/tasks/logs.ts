// Phase 5, a task that logs without end: one worker sends reports of
// `lines` log lines of `lineBytes` bytes, one after the other as fast as
// they are taken, until `totalBytes` are sent or `maxSeconds` have passed,
// whichever comes first (the server trims the task's log past its cap); meanwhile a reader asks for the last 100 lines every
// `tailEveryMs`. The baseline: the raw log transaction (with a trim of its
// own past the same cap) and a raw tail query, on the same schedule.
import { type Api, now, reportBody, sleep } from "./common.js";
import type { RawSide } from "./raw.js";
import { finishHeld, holdRawTasks, holdTasks } from "./report.js";

export interface LogOptions {
  totalBytes: number;
  lines: number;
  lineBytes: number;
  capBytes: number;
  tailEveryMs: number;
  maxSeconds: number;
}

export interface LogResult {
  seconds: number;
  bytes: number;
  reportMs: number[];
  tailMs: number[];
  errors: number;
  firstError: unknown;
}

async function drive(o: LogOptions, write: (k: number, lines: string[]) => Promise<void>, tail: () => Promise<void>): Promise<LogResult> {
  const res: LogResult = { seconds: 0, bytes: 0, reportMs: [], tailMs: [], errors: 0, firstError: undefined };
  let writing = true;
  let written = false;
  const reader = (async () => {
    // Tails are read once the task has lines.
    while (writing && !written) await sleep(10);
    while (writing) {
      await sleep(o.tailEveryMs);
      if (!writing) break;
      const t0 = now();
      try {
        await tail();
        res.tailMs.push(now() - t0);
      } catch (err) {
        res.errors++;
        res.firstError ??= err;
      }
    }
  })();
  const start = now();
  try {
    const end = start + o.maxSeconds * 1000;
    for (let k = 0; res.bytes < o.totalBytes && now() < end; k++) {
      const lines = reportBody(k, 0, o.lines, o.lineBytes).lines;
      const t0 = now();
      try {
        await write(k, lines);
        written = true;
        res.reportMs.push(now() - t0);
        res.bytes += lines.reduce((s, l) => s + l.length, 0);
      } catch (err) {
        res.errors++;
        res.firstError ??= err;
        if (res.errors > 10) break;
      }
    }
  } finally {
    writing = false;
    res.seconds = (now() - start) / 1000;
    await reader;
  }
  return res;
}

export async function logsModelreg(writer: Api, reader: Api, o: LogOptions): Promise<LogResult> {
  const [h] = await holdTasks([writer], "logs", "logs");
  try {
    return await drive(
      o,
      async (k, lines) => {
        await writer.workers.reportProgress({ leaseToken: h!.leaseToken, logs: lines.map((text) => ({ text, stream: "stdout" })), firstLineNumber: BigInt(k * o.lines) });
      },
      async () => {
        const r = await reader.tasks.listTaskLogs({ name: h!.name, tail: 100 });
        if (r.lines.length === 0) throw new Error("ListTaskLogs tail=100 returned no lines");
      },
    );
  } finally {
    await finishHeld([h!]);
  }
}

export async function logsRaw(raw: RawSide, o: LogOptions, params: Record<string, unknown>): Promise<LogResult> {
  const [t] = await holdRawTasks(raw, 1, "logs", params);
  try {
    return await drive(
      o,
      (_, lines) => raw.writeLogs(t!, lines, o.capBytes, 30),
      async () => {
        if ((await raw.tail(t!.id, 100)) === 0) throw new Error("baseline tail returned no lines");
      },
    );
  } finally {
    await raw.finishAll();
  }
}
