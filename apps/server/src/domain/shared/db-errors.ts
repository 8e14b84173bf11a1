// Recognising PostgreSQL and driver errors (postgres.js and PGlite), looking
// through the wrappers Drizzle puts around them.
import { CONNECT_FAILURES, CONNECTION_LOSSES } from "@modelreg/db";

function* causes(err: unknown): Generator<Record<string, unknown>> {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    yield e as Record<string, unknown>;
    e = (e as { cause?: unknown }).cause;
  }
}

/** The SQLSTATE (e.g. 23505) or driver code (e.g. ECONNREFUSED) of an error. */
export function errorCodes(err: unknown): string[] {
  const out: string[] = [];
  for (const e of causes(err)) if (typeof e.code === "string") out.push(e.code);
  return out;
}


export const isUniqueViolation = (err: unknown): boolean => errorCodes(err).includes("23505");
export const isForeignKeyViolation = (err: unknown): boolean => errorCodes(err).includes("23503");

const UNAVAILABLE = new Set([
  // A connection that could not be opened, or was lost in use (@modelreg/db's lists, which its pool gate acts on).
  ...CONNECT_FAILURES,
  ...CONNECTION_LOSSES,
  // @modelreg/db's pool gate: the database unreachable, or no connection free in time.
  "DATABASE_UNREACHABLE", "POOL_ACQUIRE_TIMEOUT",
  // too many connections, connection exceptions, serialization failure, deadlock: retry.
  "53300", "08000", "08003", "40001", "40P01",
]);

/** True when the database is down or the transaction may simply be retried. */
export function isUnavailable(err: unknown): boolean {
  return errorCodes(err).some((c) => UNAVAILABLE.has(c));
}
