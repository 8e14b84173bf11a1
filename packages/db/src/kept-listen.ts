// One LISTEN on PostgreSQL kept in place across outages, on a connection of
// its own. postgres.js 3's own sql.listen() LISTENed again after a lost
// connection only if that first try succeeded: a LISTEN that failed (the
// database went away while the server started, or was still away when the
// connection dropped) stayed failed for the life of the process, and its
// rejected promise made the next listen() of the channel fail too. Here a
// failed or lost LISTEN is tried again with a growing wait (up to 5 s)
// until it holds or is stopped.
import postgres from "postgres";

export interface ListenHandlers {
  onPayload: (payload: string) => void;
  /** Each time the LISTEN is in place: at first, and again after it was lost (notifications may have been missed). */
  onListening?: (() => void) | undefined;
  /** Each failed try and each loss of the connection; the LISTEN is tried again after it. */
  onError?: ((err: unknown) => void) | undefined;
}

export interface Listening {
  /** Settles once the first try has: listening, or failed (and being tried again). */
  readonly ready: Promise<void>;
  /** Stops trying and closes the connection; never waits on the database. */
  stop(): Promise<void>;
}

const MAX_WAIT_MS = 5000;

export function keepListening(url: string, settings: postgres.Options<Record<string, never>>, channel: string, h: ListenHandlers): Listening {
  let stopped = false;
  let trying = false;
  let listening = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let settleFirst = () => {};
  const ready = new Promise<void>((resolve) => (settleFirst = resolve));
  const quoted = `"${channel.replace(/"/g, '""')}"`;
  const sql = postgres(url, {
    ...settings,
    max: 1,
    idle_timeout: 0,
    max_lifetime: 0,
    fetch_types: false,
    // Not in postgres.js's option types, but the hook its own sql.listen() uses.
    ...({ onnotify: (c: string, payload: string) => c === channel && h.onPayload(payload) } as object),
    onclose: () => {
      // A failed try is handled where it fails; this is a held LISTEN lost.
      if (stopped || trying || !listening) return;
      listening = false;
      h.onError?.(new Error(`the connection that LISTENs on ${channel} closed`));
      later();
    },
  });
  const later = () => {
    if (stopped) return;
    const wait = Math.min(MAX_WAIT_MS, 50 * 2 ** failures++) * (0.5 + Math.random() / 2);
    timer = setTimeout(() => void attempt(), wait);
    timer.unref();
  };
  const attempt = async () => {
    timer = undefined;
    trying = true;
    try {
      await sql.unsafe(`LISTEN ${quoted}`);
      trying = false;
      if (stopped) return;
      listening = true;
      failures = 0;
      h.onListening?.();
    } catch (err) {
      trying = false;
      if (stopped) return;
      h.onError?.(err);
      later();
    } finally {
      settleFirst();
    }
  };
  void attempt();
  return {
    ready,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      settleFirst();
      // Closing the connection ends the LISTEN with it; give it a second, then cut it.
      await sql.end({ timeout: 1 });
    },
  };
}
