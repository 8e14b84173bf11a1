// What a job handler implements and what it may throw to steer its job's end.
// The engine (engine.ts) runs kinds; export-job.ts and gc.ts are kinds.
import type { JobRow } from "@modelreg/db";

/** Thrown by a handler: fail now, do not retry (bad input, a version that vanished). */
export class PermanentJobError extends Error {}

/** Thrown by a handler that learnt on its own that its work was cancelled: the job ends CANCELLED. */
export class JobCancelledError extends Error {}

export interface JobContext {
  job: JobRow;
  /** Aborted when the job is cancelled or the engine stops. */
  signal: AbortSignal;
  /** 1 for the first try. */
  attempt: number;
  isLastAttempt: boolean;
}

export interface JobKind {
  run(payload: Record<string, unknown>, ctx: JobContext): Promise<void>;
  /** After the last failed attempt (or a permanent failure). */
  onFailed?(payload: Record<string, unknown>, error: string, job: JobRow): Promise<void>;
  /** After a cancellation reached the job (running or queued). */
  onCancelled?(payload: Record<string, unknown>, job: JobRow): Promise<void>;
}
