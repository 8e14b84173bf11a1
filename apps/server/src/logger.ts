// JSON logs on stdout (pino). One logger, built at start and passed down.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "modelreg" }, timestamp: pino.stdTimeFunctions.isoTime }, stdout());
}

let shared: ReturnType<typeof pino.destination> | undefined;
/**
 * One buffered stdout stream for every logger of the process (flushed at
 * exit): two loggers with a buffer each would write their lines out of
 * order, e.g. a start-up failure before the lines that led to it.
 */
function stdout(): ReturnType<typeof pino.destination> {
  shared ??= pino.destination(1);
  return shared;
}
