// JSON logs on stdout (pino). One logger, built at start and passed down.
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "modelreg" }, timestamp: pino.stdTimeFunctions.isoTime }, stdout());
}

/** Characters of log lines gathered into one write to stdout. */
const WRITE_AT_CHARS = 4096;
/** The longest a line waits when fewer come. */
const FLUSH_EVERY_MS = 50;

/** A destination that gathers lines and hands them on in batches. */
export interface LineBatches extends DestinationStream {
  /** Hands every gathered line on now; `done` once the stream below has written them. */
  flush(done?: (err?: Error | null) => void): void;
  /** Hands every gathered line on and has the stream below write them before returning (on exit). */
  flushSync(): void;
}

let shared: LineBatches | undefined;
/**
 * One buffered stdout stream for every logger of the process: two loggers
 * with a buffer each would write their lines out of order, e.g. a start-up
 * failure before the lines that led to it.
 *
 * Lines are written WRITE_AT_CHARS at a time, or every FLUSH_EVERY_MS when
 * fewer come: the access log's line per call was a write system call per
 * call, a thread-pool round trip each. The batches are gathered here, not
 * in sonic-boom's own buffer (pino.destination's minLength): that one
 * appends each line to one growing string and measures its UTF-8 length at
 * every line, which cost 5-6 µs of CPU and about 8 KiB of garbage per line
 * (with pino's formatting, 7.2-8.1 µs a line in all against 3.2-3.7 here).
 * On exit, however it comes (process.exit, an uncaught error), what is
 * gathered is handed on and written synchronously; only a SIGKILL loses the
 * last FLUSH_EVERY_MS of lines.
 */
function stdout(): LineBatches {
  if (!shared) {
    // sonic-boom writes each batch at once (and, through pino, what is still
    // pending synchronously on exit).
    const batches = batchLines(pino.destination({ dest: 1, minLength: 0 }), WRITE_AT_CHARS, FLUSH_EVERY_MS);
    process.on("beforeExit", () => batches.flush());
    process.on("exit", () => batches.flushSync());
    shared = batches;
  }
  return shared;
}

/**
 * Lines gathered in order and handed to `below` as one string once
 * `atChars` have come, or `everyMs` after the first of fewer.
 */
export function batchLines(
  below: { write(text: string): void; flush(done: (err?: Error | null) => void): void; flushSync(): void },
  atChars: number,
  everyMs: number,
): LineBatches {
  let lines: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | undefined;
  const handOn = () => {
    clearTimeout(timer);
    timer = undefined;
    if (chars === 0) return;
    const text = lines.length === 1 ? lines[0]! : lines.join("");
    lines = [];
    chars = 0;
    below.write(text);
  };
  return {
    write(line: string) {
      lines.push(line);
      chars += line.length;
      if (chars >= atChars) handOn();
      else if (!timer) {
        timer = setTimeout(handOn, everyMs);
        timer.unref();
      }
    },
    flush(done) {
      handOn();
      below.flush(done ?? (() => {}));
    },
    flushSync() {
      handOn();
      below.flushSync();
    },
  };
}
