// What the phases of the tasks bench share: Connect clients of the server
// (each its own HTTP/2 connection, as separate workers would have), the
// reports both sides send, waiting for a condition, the server's memory
// sampled through a phase, and the figures the table prints.
import { randomBytes } from "node:crypto";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { TaskService, TaskType, TaskWorkerService } from "@modelreg/proto";
import { peakRssMb, resetPeakRss, rssMb } from "../lib/memory.js";

/** modelreg's workspace; the baseline's tasks live in RAW_WORKSPACE of the same tables. */
export const PARENT = "workspaces/default";

export const now = (): number => performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const log = (s: string): void => void process.stderr.write(`${s}\n`);

/**
 * Waits until `cond` holds, looking every `everyMs`. The timeout only
 * catches a hang (a server that stopped answering), it is no measurement.
 */
export async function until(cond: () => boolean, what: string, timeoutMs = 120_000, everyMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting ${timeoutMs / 1000} s for ${what}`);
    await sleep(everyMs);
  }
}

/** Runs `fn` over `items`, at most `limit` at once. */
export async function eachLimited<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

export interface Api {
  tasks: Client<typeof TaskService>;
  workers: Client<typeof TaskWorkerService>;
  close(): void;
}

/** Clients of the server over one HTTP/2 connection of their own (Connect protocol, binary, no compression: loopback). */
export function connect(baseUrl: string, accessKey: string): Api {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${accessKey}`);
    return next(req);
  };
  const sessionManager = new Http2SessionManager(baseUrl);
  const transport = createConnectTransport({ baseUrl, httpVersion: "2", sessionManager, interceptors: [auth], acceptCompression: [] });
  return { tasks: createClient(TaskService, transport), workers: createClient(TaskWorkerService, transport), close: () => sessionManager.abort() };
}

/** Registers a worker on `queue` and returns its resource name. */
export async function registerWorker(api: Api, workerId: string, queue: string): Promise<string> {
  const { worker } = await api.workers.registerWorker({ parent: PARENT, workerId, worker: { queues: [queue], cpuCount: 8, hostname: "bench" } });
  return worker!.name;
}

export async function createTask(api: Api, queue: string): Promise<{ name: string; lastSeq: number }> {
  const { task } = await api.tasks.createTask({ parent: PARENT, task: { type: TaskType.TRAIN, queue } });
  return { name: task!.name, lastSeq: Number(task!.lastSeq) };
}

/** One report of a simulated worker: the same content for modelreg and the baseline. */
export interface ReportBody {
  /** The report's number within its task, from 0. */
  k: number;
  progress: { epoch: number; totalEpochs: number; step: number; totalSteps: number; fraction: number; message: string };
  points: { name: string; step: number; value: number; epoch: number }[];
  lines: string[];
  /** The number of the first line within the attempt. */
  firstLine: number;
}

const FILLER = randomBytes(3 << 20).toString("base64");

/** Report k: `points` metric points at step k and `lines` log lines of about `lineBytes` bytes, `r<k> l<i> ` first. */
export function reportBody(k: number, points: number, lines: number, lineBytes: number): ReportBody {
  const start = (k * 7919) % (FILLER.length - lines * lineBytes - 1);
  return {
    k,
    progress: { epoch: k, totalEpochs: 100_000, step: k, totalSteps: 100_000, fraction: Math.min(1, k / 100_000), message: `r${k}` },
    points: Array.from({ length: points }, (_, i) => ({ name: `metric_${i}`, step: k, value: Math.random(), epoch: k })),
    lines: Array.from({ length: lines }, (_, i) => {
      const head = `r${k} l${i} `;
      return head + FILLER.slice(start + i * lineBytes, start + (i + 1) * lineBytes - head.length);
    }),
    firstLine: k * lines,
  };
}

/** The line that ends report k of a report with `lines` lines, as a watcher recognises it. */
export function lastLineTag(lines: number): RegExp {
  return new RegExp(`^r(\\d+) l${lines - 1} `);
}

/** A ReportProgress request of a body. */
export function reportRequest(leaseToken: string, b: ReportBody) {
  return {
    leaseToken,
    progress: { ...b.progress, step: BigInt(b.progress.step), totalSteps: BigInt(b.progress.totalSteps), etaSeconds: 0n },
    metrics: b.points.map((p) => ({ ...p, step: BigInt(p.step) })),
    logs: b.lines.map((text) => ({ text, stream: "stdout" })),
    firstLineNumber: BigInt(b.firstLine),
  };
}

/**
 * The server's resident memory through a phase: sampled every 100 ms, and
 * its peak (VmHWM, reset at the start of the phase when Linux allows) so a
 * spike between samples counts too.
 */
export function memoryWatch(pid: number) {
  let max = 0;
  let peakReset = false;
  const timer = setInterval(() => {
    const r = rssMb(pid);
    if (r > max) max = r;
  }, 100);
  timer.unref();
  return {
    /** Starts a phase: forgets the previous maximum. */
    phase() {
      max = rssMb(pid);
      peakReset = resetPeakRss(pid);
    },
    /** The phase's maximum so far, MB. */
    max(): number {
      return Math.max(max, peakReset ? peakRssMb(pid) : 0);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
export type MemoryWatch = ReturnType<typeof memoryWatch>;

/** One line of the table. Latencies in ms unless `unit` says otherwise; ratio = modelreg ÷ baseline. */
export interface Figure {
  phase: string;
  figure: string;
  unit: string;
  value: number;
  /** Met when value ≤ target (or < for "<"). */
  target?: { op: "≤" | "<" | "="; limit: number };
  baseline?: number;
  note?: string;
}
