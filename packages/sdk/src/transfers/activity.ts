// An inactivity deadline for one transfer attempt: aborts when no bytes have
// moved for `idleMs` (the client's transferIdleMs, else timeoutMs), or when the caller's signal
// aborts. `touch()` on every chunk sent or received keeps it alive (cheap: it
// notes the time, and the timer re-arms itself for what is left).
import { Code, ConnectError } from "@connectrpc/connect";

export interface ActivitySignal {
  /** Aborts on inactivity or on the caller's signal. */
  readonly signal: AbortSignal;
  /** Bytes moved: restart the inactivity clock. */
  touch(): void;
  /** Whether the abort came from inactivity (not the caller). */
  readonly idle: boolean;
  /** Stops the clock and unlinks from the caller's signal. */
  done(): void;
}

/** The error a transfer fails with after `idleMs` without a byte. */
export function idleError(idleMs: number): ConnectError {
  return new ConnectError(`no bytes moved for ${idleMs} ms (the client's transferIdleMs, else timeoutMs): connection stalled`, Code.DeadlineExceeded);
}

export function activitySignal(idleMs: number | undefined, outer?: AbortSignal): ActivitySignal {
  const controller = new AbortController();
  let idle = false;
  let timer: NodeJS.Timeout | undefined;
  const onOuter = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener("abort", onOuter, { once: true });
  const watching = !!idleMs && idleMs > 0;
  // touch() only notes the time (it runs for every chunk); the one timer
  // looks at it when due and waits the rest of the idle time if bytes moved.
  let last = performance.now();
  const due = (ms: number) => {
    timer = setTimeout(check, ms);
    timer.unref?.();
  };
  function check() {
    if (controller.signal.aborted) return;
    const quiet = performance.now() - last;
    if (quiet < idleMs!) return due(idleMs! - quiet);
    idle = true;
    controller.abort(idleError(idleMs!));
  }
  if (watching && !controller.signal.aborted) due(idleMs);
  return {
    signal: controller.signal,
    touch() {
      last = performance.now();
    },
    get idle() {
      return idle;
    },
    done() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuter);
    },
  };
}
