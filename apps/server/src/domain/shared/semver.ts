// Semantic versions (semver.org 2.0.0) and an order-preserving text key.
//
// sortKey(a) < sortKey(b) (byte order, COLLATE "C") exactly when a has lower
// precedence than b, so PostgreSQL can sort and seek versions with a plain
// btree index. Encoding:
//   number      -> one length char ('A' + digits) then the digits, so longer
//                  numbers sort higher (semver forbids leading zeros)
//   core        -> number(major) number(minor) number(patch)
//   release     -> core + "~"            ('~' sorts above '-')
//   pre-release -> core + "-" + ids joined by "!", where a numeric id is
//                  "#" + number and an alphanumeric id is "%" + id; '!' sorts
//                  below every id character, so a shorter id list sorts lower,
//                  and '#' < '%' puts numeric ids below alphanumeric ones.
// Build metadata (+...) does not affect precedence; versions that differ only
// there get the same key and are told apart by the version text.

export const VERSION_MAX_LENGTH = 128;
export const NUMBER_MAX_DIGITS = 15;

const NUM = "0|[1-9]\\d*";
const ID = "[0-9A-Za-z-]+";
const SEMVER = new RegExp(`^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${ID}(?:\\.${ID})*))?(?:\\+(${ID}(?:\\.${ID})*))?$`);

export interface Semver {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
  build: string[];
}

export type ParseResult = { version: Semver; sortKey: string; error?: undefined } | { version?: undefined; sortKey?: undefined; error: string };

/** Parses a version; `error` says what is wrong in words a user can act on. */
export function parseSemver(text: string): ParseResult {
  if (text.length > VERSION_MAX_LENGTH) return { error: `is longer than ${VERSION_MAX_LENGTH} characters` };
  const m = SEMVER.exec(text);
  if (!m)
    return {
      error: `"${text.slice(0, 40)}" is not a semantic version: use MAJOR.MINOR.PATCH with an optional -prerelease and +build, e.g. 1.0.0 or 2.1.0-rc.1`,
    };
  const prerelease = m[4] ? m[4].split(".") : [];
  for (const id of prerelease) {
    if (/^\d+$/.test(id) && id.length > 1 && id.startsWith("0"))
      return { error: `pre-release identifier "${id}" has a leading zero, which semantic versions forbid` };
  }
  const version: Semver = { major: m[1]!, minor: m[2]!, patch: m[3]!, prerelease, build: m[5] ? m[5].split(".") : [] };
  for (const n of [version.major, version.minor, version.patch, ...prerelease.filter(isNumeric)]) {
    if (n.length > NUMBER_MAX_DIGITS) return { error: `number ${n.slice(0, 20)} has more than ${NUMBER_MAX_DIGITS} digits` };
  }
  return { version, sortKey: sortKeyOf(version) };
}

function isNumeric(id: string): boolean {
  return /^\d+$/.test(id);
}

function encodeNumber(n: string): string {
  return String.fromCharCode(0x40 + n.length) + n;
}

function sortKeyOf(v: Semver): string {
  const core = encodeNumber(v.major) + encodeNumber(v.minor) + encodeNumber(v.patch);
  if (v.prerelease.length === 0) return `${core}~`;
  return `${core}-${v.prerelease.map((id) => (isNumeric(id) ? `#${encodeNumber(id)}` : `%${id}`)).join("!")}`;
}

/** Compares two version strings by precedence, then by text (build metadata). */
export function compareVersions(a: string, b: string): number {
  const ka = parseSemver(a).sortKey ?? "";
  const kb = parseSemver(b).sortKey ?? "";
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The version to assign after `latest`: the next patch (1.4.2 -> 1.4.3), or
 * for a pre-release its release (2.0.0-rc.1 -> 2.0.0); `1.0.0` when there is
 * none yet. Build metadata is dropped.
 */
export function nextVersion(latest: string): string {
  if (latest === "") return "1.0.0";
  const parsed = parseSemver(latest).version;
  if (!parsed) throw new Error(`stored version ${latest} does not parse`);
  const { major, minor, patch, prerelease } = parsed;
  if (prerelease.length > 0) return `${major}.${minor}.${patch}`;
  return `${major}.${minor}.${(BigInt(patch) + 1n).toString()}`;
}

/**
 * Auto-numbering state kept on the model row: the next version to assign is
 * `prefix + patch`, and its sort key `keyPrefix + encodeNumber(patch) + "~"`.
 * The SQL of CreateVersion computes exactly that (see versions.ts); keep the
 * two in step.
 */
export interface AutoNumbering {
  prefix: string;
  keyPrefix: string;
  patch: number;
}

/** The auto-numbering state whose next version is nextVersion(after). */
export function autoNumberingAfter(after: string): AutoNumbering {
  const next = parseSemver(nextVersion(after)).version!;
  return { prefix: `${next.major}.${next.minor}.`, keyPrefix: encodeNumber(next.major) + encodeNumber(next.minor), patch: Number(next.patch) };
}

/** The version and sort key an auto-numbering state assigns next. */
export function autoVersion(a: AutoNumbering): { version: string; sortKey: string } {
  return { version: `${a.prefix}${a.patch}`, sortKey: `${a.keyPrefix}${encodeNumber(String(a.patch))}~` };
}
