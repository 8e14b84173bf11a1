// Wake-ups of what waits on tasks: a watcher for a task's next events, a
// claim for work in a workspace. A wake-up says only that something may be
// there; the waiter reads the database to learn what (by sequence number),
// so a lost or repeated wake-up costs a read, never an event.
// notify/task-wakeups.ts implements it over LISTEN/NOTIFY.

export interface TaskWakeups {
  /** Calls `listener` when events of the task (tasks.id) up to `seq` have committed. Returns the unsubscribe. */
  onEvents(taskRowId: string, listener: (seq: number) => void): () => void;
  /** Calls `listener` when a task of the workspace may have become claimable. Returns the unsubscribe. */
  onQueued(workspace: string, listener: () => void): () => void;
  /**
   * Resolves once notifications are being received, so that a read made
   * after it misses nothing a later wake-up would not announce.
   */
  ready(): Promise<void>;
}
