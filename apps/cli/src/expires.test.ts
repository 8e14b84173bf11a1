import { describe, expect, it } from "vitest";
import { UsageError } from "./exit-codes.js";
import { parseExpires } from "./expires.js";

const now = new Date("2026-03-01T12:00:00Z");

describe("parseExpires", () => {
  it.each([
    ["30d", "2026-03-31T12:00:00.000Z"],
    ["12h", "2026-03-02T00:00:00.000Z"],
    ["90m", "2026-03-01T13:30:00.000Z"],
    ["2w", "2026-03-15T12:00:00.000Z"],
    ["1d12h", "2026-03-03T00:00:00.000Z"],
    ["45s", "2026-03-01T12:00:45.000Z"],
    ["2026-12-31", "2026-12-31T00:00:00.000Z"],
    ["2026-12-31T18:00:00Z", "2026-12-31T18:00:00.000Z"],
    ["2026-12-31T18:00+02:00", "2026-12-31T16:00:00.000Z"],
    ["2026-12-31 18:00:00.5Z", "2026-12-31T18:00:00.500Z"],
  ])("%s", (text, iso) => {
    expect(parseExpires(text, now).toISOString()).toBe(iso);
  });

  it.each([
    ["soon", /expected a time such as 2026-12-31/],
    ["30", /expected a time/],
    ["30 days", /expected a time/],
    ["-5d", /expected a time/],
    ["0d", /longer than zero/],
    ["2026-02-30", /no such date/],
    ["2026-12-31T24:00:00Z", /no such date or time/],
    ["2026-01-01", /2026-01-01T00:00:00.000Z is not in the future/],
    ["999999w", /too far ahead/],
  ])("refuses %s", (text, message) => {
    expect(() => parseExpires(text, now)).toThrow(UsageError);
    expect(() => parseExpires(text, now)).toThrow(message);
  });
});
