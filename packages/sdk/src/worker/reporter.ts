// The reports of one attempt. ctx.log(), ctx.metric() and ctx.progress()
// only gather; a report goes out every report interval the server asks for
// (a heartbeat when there is nothing to say, which also keeps the lease),
// sooner when a full batch is waiting, and whenever the worker flushes.
// One report is in flight at a time, and a batch stays the same until the
// server took it: a retry after a lost answer sends the same lines with the
// same first_line_number and the same points, which the server records
// once. Each answer says whether a stop or cancel was asked.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { ReportProgressResponse, TaskProgressSchema, TaskWorkerService } from "@modelreg/proto";
import { type Batch, dropOldest, linesOf, MAX_LINES, MAX_POINTS, type PendingLine, pointOf, takeBatch } from "./batches.js";
import { isLeaseLost } from "./errors.js";
import type { LeaseClock } from "./lease-clock.js";
import { persist, WORKER_BACKOFF } from "./persist.js";

/** Kept while the server is out of reach; past these the oldest go. */
const MAX_PENDING_LINES = 100_000;
const MAX_PENDING_POINTS = 100_000;
/** The least time one report may take before it is tried again. */
const REPORT_TIMEOUT_MS = 10_000;

export interface ReporterDeps {
  workers: Client<typeof TaskWorkerService>;
  leaseToken: string;
  lease: LeaseClock;
  /** Ends all trying (the lease is lost, or the worker is killed). */
  signal: AbortSignal;
  /** Every answer: stop and cancel requests. */
  onReply(reply: ReportProgressResponse): void;
  /** The server refused the lease (or it ran out unanswered): nothing more is sent. */
  onLeaseLost(err: unknown): void;
  /** A report the server refused for another reason (its batch is dropped). */
  onError(err: unknown): void;
  /** A report that failed in passing, sent again after `delayMs`. */
  onRetry(err: unknown, delayMs: number): void;
}

export interface Reporter {
  log(text: string, stream?: string): void;
  metric(name: string, value: number, step: number, epoch?: number): void;
  progress(p: MessageInitShape<typeof TaskProgressSchema>): void;
  /** Sends everything gathered (at least one report); resolves when the server has it, or it can no longer be sent. */
  flush(): Promise<void>;
  /** Starts the heartbeat. */
  start(): void;
  /** Stops the heartbeat and waits for the report in flight; later flushes send nothing. */
  close(): Promise<void>;
}

interface InFlight extends Batch {
  progress: MessageInitShape<typeof TaskProgressSchema> | undefined;
  firstLineNumber: number;
}

/** What a reporter holds between reports. */
interface State {
  pending: Batch;
  progress: InFlight["progress"];
  inflight: InFlight | undefined;
  /** Lines the server has taken (or refused for good) in this attempt: the next batch's first line number. */
  linesSent: number;
  droppedLines: number;
  closed: boolean;
  earlyQueued: boolean;
}

/** The next batch, with the progress gathered and a note of lines dropped meanwhile. */
function form(s: State): InFlight {
  if (s.droppedLines > 0) {
    s.pending.logs.unshift({ text: `[modelreg] ${s.droppedLines} log lines dropped while the server was out of reach`, stream: "stderr", time: new Date() });
    s.droppedLines = 0;
  }
  const batch = takeBatch(s.pending);
  const progress = s.progress;
  s.progress = undefined;
  return { ...batch, progress, firstLineNumber: s.linesSent };
}

/** One report, made again while the server is out of reach (the lease permitting). */
async function send(deps: ReporterDeps, b: InFlight): Promise<void> {
  const sentAt = Date.now();
  const request = {
    leaseToken: deps.leaseToken,
    ...(b.progress ? { progress: b.progress } : {}),
    metrics: b.metrics.map((p) => ({ name: p.name, step: BigInt(p.step), value: p.value, epoch: p.epoch, time: timestampFromDate(p.time) })),
    logs: b.logs.map((l) => ({ text: l.text, stream: l.stream, time: timestampFromDate(l.time) })),
    firstLineNumber: BigInt(b.firstLineNumber),
  };
  // A connection that hangs without breaking must not stop the heartbeat: each try is bounded.
  const timeoutMs = Math.max(REPORT_TIMEOUT_MS, 2 * deps.lease.intervalMs);
  const reply = await persist(() => deps.workers.reportProgress(request, { signal: deps.signal, timeoutMs }), {
    signal: deps.signal,
    policy: WORKER_BACKOFF,
    check: () => deps.lease.check(),
    onRetry: deps.onRetry,
  });
  deps.lease.renew(reply.leaseExpireTime, sentAt);
  deps.lease.setInterval(reply.reportIntervalMs);
  deps.onReply(reply);
}

/** Sends until nothing is pending (at least once); never throws. */
async function drain(deps: ReporterDeps, s: State): Promise<void> {
  s.earlyQueued = false;
  do {
    if (s.closed) return;
    s.inflight ??= form(s);
    try {
      await send(deps, s.inflight);
    } catch (err) {
      if (deps.signal.aborted || isLeaseLost(err)) {
        s.closed = true;
        deps.onLeaseLost(err);
        return;
      }
      deps.onError(err);
    }
    // Taken, or refused for good: either way these numbers are used.
    s.linesSent += s.inflight.logs.length;
    s.inflight = undefined;
  } while (s.pending.logs.length > 0 || s.pending.metrics.length > 0);
}

export function createReporter(deps: ReporterDeps): Reporter {
  const s: State = { pending: { logs: [], metrics: [] }, progress: undefined, inflight: undefined, linesSent: 0, droppedLines: 0, closed: false, earlyQueued: false };
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    const run = chain.then(() => drain(deps, s));
    chain = run.catch(() => {});
    return run;
  };
  const schedule = () => {
    if (!s.closed) timer = setTimeout(() => void flush().finally(schedule), deps.lease.intervalMs);
  };
  /** A full batch waiting: send it now rather than at the next beat. */
  const early = () => {
    if (s.earlyQueued || s.closed || (s.pending.logs.length < MAX_LINES && s.pending.metrics.length < MAX_POINTS)) return;
    s.earlyQueued = true;
    void flush();
  };
  return {
    log(text, stream = "") {
      if (s.closed) return;
      s.pending.logs.push(...linesOf(String(text), stream, new Date()));
      s.droppedLines += dropOldest<PendingLine>(s.pending.logs, MAX_PENDING_LINES);
      early();
    },
    metric(name, value, step, epoch) {
      const point = pointOf(name, value, step, epoch, new Date());
      if (s.closed) return;
      s.pending.metrics.push(point);
      dropOldest(s.pending.metrics, MAX_PENDING_POINTS);
      early();
    },
    progress(p) {
      if (!s.closed) s.progress = p;
    },
    flush,
    start() {
      if (!timer) schedule();
    },
    async close() {
      clearTimeout(timer);
      await chain;
      s.closed = true;
      clearTimeout(timer);
    },
  };
}
