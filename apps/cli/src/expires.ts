// `keys create --expires`: an absolute time (ISO 8601: 2026-12-31,
// 2026-12-31T18:00:00Z, 2026-12-31T18:00+02:00) or a duration from now
// (30d, 12h, 90m, 2w, 1d12h). Anything else, or a time not in the future,
// is a usage error (exit 2) before any call.
import { UsageError } from "./exit-codes.js";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const DURATION = /^(\d+[smhdw])+$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

const EXPECTED = "expected a time such as 2026-12-31 or 2026-12-31T18:00:00Z, or a duration such as 30d, 12h, 90m or 2w";

/** When a key given `--expires <text>` at `now` expires. */
export function parseExpires(text: string, now: Date): Date {
  const value = text.trim();
  const fail = (why: string): never => {
    throw new UsageError(`--expires "${text}": ${why}`);
  };
  let at: Date;
  if (DURATION.test(value.toLowerCase())) {
    let ms = 0;
    for (const [, n, unit] of value.toLowerCase().matchAll(/(\d+)([smhdw])/g)) ms += Number(n) * UNIT_MS[unit!]!;
    if (!Number.isSafeInteger(ms) || ms > 100 * 365 * 86_400_000) fail("that is too far ahead (at most 100 years)");
    if (ms === 0) fail("a duration must be longer than zero");
    at = new Date(now.getTime() + ms);
  } else {
    const m = ISO.exec(value);
    if (!m) return fail(EXPECTED);
    const [, y, mo, d, h = "0", mi = "0", s = "0"] = m;
    // Date.parse rolls 2026-02-30 over into March; refuse such dates instead.
    const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
    if (day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
      return fail(`there is no such date or time; ${EXPECTED}`);
    }
    at = new Date(value.replace(" ", "T"));
    if (Number.isNaN(at.getTime())) return fail(EXPECTED);
  }
  if (at.getTime() <= now.getTime()) fail(`${at.toISOString()} is not in the future`);
  return at;
}
