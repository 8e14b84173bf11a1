// The file-system blob store's syncFile for tests: each append's sync is
// held until the test lets it go on (or fail), so a test sees what happens
// while bytes are being made durable, without waiting on time.
import type { FileHandle } from "node:fs/promises";

/** A syncFile that holds each append's sync until the test releases it (or, with `pass`, syncs at once), and says when one starts. */
export function heldSyncs() {
  const held: ((err?: Error) => void)[] = [];
  let wake = () => {};
  let pass = false;
  const syncFile = (handle: FileHandle) =>
    pass
      ? handle.sync()
      : new Promise<void>((resolve, reject) => {
          held.push((err) => (err ? reject(err) : handle.sync().then(resolve, reject)));
          wake();
        });
  return {
    syncFile,
    /** Resolves once `n` syncs have started. */
    started: (n: number) =>
      new Promise<void>((resolve) => {
        wake = () => held.length >= n && resolve();
        wake();
      }),
    /** How many syncs have started. */
    count: () => held.length,
    /** Lets the `i`-th sync (from 0) go on, or fail with `err`. */
    release: (i: number, err?: Error) => held[i]!(err),
    /** From now on, syncs go on at once (`true`) or are held (`false`). */
    passThrough: (on: boolean) => {
      pass = on;
    },
  };
}
