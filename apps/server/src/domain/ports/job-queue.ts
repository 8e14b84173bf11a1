// Background work as the domain needs it: queue a job (in the caller's
// transaction, so it exists exactly when the row that needs it does), ask
// for one to stop, and nudge the workers. jobs/engine.ts implements it.
import type { Tx } from "@modelreg/db";

export interface JobQueue {
  /** Queues a job; with `tx`, it commits with the caller's transaction. */
  enqueue(kind: string, payload: Record<string, unknown>, opts?: { tx?: Tx; maxAttempts?: number }): Promise<string>;
  /** Asks a job to stop: a queued one is cancelled at once, a running one within a lease renewal (one whose process died, once its lease runs out). */
  cancel(id: string, tx?: Tx): Promise<void>;
  /** Looks for work now (after an enqueue that committed). */
  poke(): void;
}
