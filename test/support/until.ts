// Waiting in end-to-end tests: for a condition, never for a time. The bound
// only catches a server that never gets there.

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `condition` until it holds; fails with `what` after `boundMs`. */
export async function until(condition: () => boolean, what: string, boundMs = 60_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting (${boundMs} ms) for: ${what}`);
    await sleep(20);
  }
}

/** Polls `probe` until `accept` holds for its answer; only a hang-catcher bounds it. */
export async function eventually<T>(probe: () => Promise<T>, accept: (v: T) => boolean, what: string, boundMs = 60_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const v = await probe();
    if (accept(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting (${boundMs} ms) for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(50);
  }
}
