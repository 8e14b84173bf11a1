// JSON logs on stdout (pino). One logger, built at start and passed down.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "modelreg" }, timestamp: pino.stdTimeFunctions.isoTime });
}
