// The rules of files and uploads, without a database: what a manifest may
// declare, when a version's files may be staged, committed or read, what
// names and offsets an upload accepts, and how much one request may carry.
import { VersionState } from "@modelreg/proto";
import { isSha256 } from "../ports/blob-store.js";
import type { ChecksumMismatchError } from "../ports/blob-store-errors.js";
import { FailedPreconditionError, type FieldViolation, InvalidArgumentError } from "../shared/errors.js";
import { checkPageSize, Violations, WORKSPACE_ID } from "../shared/validation.js";
import { mediaTypeOf } from "./manifest.js";
import { normalizeFilePath, normalizeManifestPaths } from "./paths.js";
import type { FileSpec } from "./types.js";

export const MAX_FILES_PER_VERSION = 10_000;
export const MAX_FILE_BYTES = 2 ** 40;
/** Largest body of one PUT or one WriteUpload stream. */
export const MAX_CHUNK_BYTES = 256 * 1024 * 1024;
/**
 * A request's bytes become durable, and the session's committed offset
 * moves, at every multiple of this many bytes of the content (and at the
 * request's end): a request cut midway loses less than this.
 */
export const COMMIT_STEP_BYTES = 16 * 1024 * 1024;
/** The head of a content whose digest CreateUploadSession looks up: its first min(size, HEAD_BYTES) bytes. */
export const HEAD_BYTES = 1024 * 1024;
/** sha256 of zero bytes. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** md5 of zero bytes. */
export const EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e";

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;.*)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SESSION_ID = /^[A-Za-z0-9]{1,64}$/;

/** A manifest's files, checked, with normalized paths and media types filled in; violations are named under `field` (the request's list). */
export function checkFiles(files: FileSpec[], field = "files"): FileSpec[] {
  const v: FieldViolation[] = [];
  if (files.length > MAX_FILES_PER_VERSION)
    throw InvalidArgumentError.field(field, `has ${files.length} files; a manifest holds at most ${MAX_FILES_PER_VERSION}`);
  const { paths, violations } = normalizeManifestPaths(field, files.map((f) => f.path));
  v.push(...violations);
  const out = files.map((f, i) => {
    const at = `${field}[${i}]`;
    if (!Number.isSafeInteger(f.size) || f.size < 0 || f.size > MAX_FILE_BYTES)
      v.push({ field: `${at}.size_bytes`, description: `${f.size} is not a file size: expected 0 to ${MAX_FILE_BYTES} bytes (1 TiB)` });
    if (!isSha256(f.sha256))
      v.push({ field: `${at}.sha256`, description: `"${f.sha256.slice(0, 80)}" is not a sha256 digest: expected 64 lowercase hex characters` });
    else if (f.size === 0 && f.sha256 !== EMPTY_SHA256)
      v.push({ field: `${at}.sha256`, description: `an empty file's sha256 is ${EMPTY_SHA256}, not ${f.sha256}` });
    if (f.mediaType !== "" && (f.mediaType.length > 255 || !MEDIA_TYPE.test(f.mediaType) || /[\x00-\x1f\x7f]/.test(f.mediaType)))
      v.push({ field: `${at}.media_type`, description: `"${f.mediaType.slice(0, 80)}" is not a media type: expected type/subtype, e.g. application/octet-stream` });
    const path = paths[i]!;
    return { path, size: f.size, sha256: f.sha256, mediaType: f.mediaType || (path ? mediaTypeOf(path) : "") };
  });
  if (v.length) throw new InvalidArgumentError(v);
  return out;
}

/** The size of each distinct content, in first-seen order; one content declared with two sizes is refused. */
export function contentSizes(files: FileSpec[], field = "files"): Map<string, number> {
  const sizes = new Map<string, number>();
  files.forEach((f, i) => {
    const known = sizes.get(f.sha256);
    if (known !== undefined && known !== f.size)
      throw InvalidArgumentError.field(`${field}[${i}].size_bytes`, `${f.size} differs from the size ${known} given for another file with sha256 ${f.sha256}`);
    sizes.set(f.sha256, f.size);
  });
  return sizes;
}

/**
 * A file whose content the workspace holds is declared with the stored
 * size: it is reported present and never uploaded, so nothing else would
 * catch a wrong size before a READY version announced it. Content the
 * workspace does not hold is not checked here (whether another workspace
 * holds it is not told); its upload verifies size and digest together.
 */
export function checkHeldSizes(files: FileSpec[], held: ReadonlyMap<string, number>, field = "files"): void {
  const v: FieldViolation[] = [];
  files.forEach((f, i) => {
    const stored = held.get(f.sha256);
    if (stored !== undefined && stored !== f.size)
      v.push({ field: `${field}[${i}].size_bytes`, description: `${f.size} is not the size of the content with sha256 ${f.sha256}: the workspace holds it, stored as ${stored} bytes` });
  });
  if (v.length) throw new InvalidArgumentError(v);
}

/** Upload sessions of a version that no longer fit its staged content: content no longer missing, or declared now with another size. */
export function staleSessions<S extends { sha256: string; size: number }>(sessions: S[], missing: ReadonlyMap<string, number>): S[] {
  return sessions.filter((s) => missing.get(s.sha256) !== s.size);
}

/** CreateUploadSession's content: a file size, and the sha256 of its head (every violation named by its field). */
export function checkUnboundContent(size: number, headSha256: string): void {
  const v = new Violations();
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_FILE_BYTES)
    v.add("size_bytes", `${size} is not a file size: expected 0 to ${MAX_FILE_BYTES} bytes (1 TiB)`);
  if (!isSha256(headSha256))
    v.add(
      "head_sha256",
      `${headSha256 === "" ? "is required" : `"${headSha256.slice(0, 80)}" is not a sha256 digest`}: expected 64 lowercase hex characters, the sha256 of the content's first min(size_bytes, ${HEAD_BYTES}) bytes`,
    );
  else if (size === 0 && headSha256 !== EMPTY_SHA256)
    v.add("head_sha256", `empty content's first bytes are none, whose sha256 is ${EMPTY_SHA256}, not ${headSha256}`);
  if (!v.empty) throw new InvalidArgumentError(v.list);
}

/** A READY version's files are replaced only when the caller asks to overwrite them. */
export function checkMayStage(name: string, state: number, overwrite: boolean): void {
  if (state === VersionState.READY && !overwrite)
    throw new FailedPreconditionError(
      "VERSION_READY",
      `${name} is READY and its files are immutable; stage with overwrite to replace them (the current files stay readable until the commit)`,
      { resource: name },
    );
}

/** A commit needs a staged manifest. */
export function requireStaged(name: string, draftStaged: boolean): void {
  if (!draftStaged) throw new FailedPreconditionError("NOTHING_STAGED", `${name} has no staged files to commit; call StageVersionFiles first`, { resource: name });
}

/** What a refusal of files not held (or held with another size) tells the caller to do: a version's wording, or a task's. */
export interface HeldAdvice {
  /** After the uploads, e.g. "commit again". */
  retry: string;
  /** For wrong sizes, e.g. "stage the files again with their true sizes, then commit". */
  restage: string;
}

export const VERSION_ADVICE: HeldAdvice = { retry: "commit again", restage: "stage the files again with their true sizes, then commit" };

/** A commit needs every staged file's content held by the workspace. */
export function requireUploaded(name: string, draft: { path: string; sha256: string }[], held: { has(sha256: string): boolean }, advice = VERSION_ADVICE): void {
  const missing = draft.filter((f) => !held.has(f.sha256));
  if (missing.length) {
    const shown = missing.slice(0, 5).map((f) => f.path).join(", ");
    throw new FailedPreconditionError(
      "UPLOADS_INCOMPLETE",
      `${missing.length} staged file(s) of ${name} are not uploaded yet (${shown}${missing.length > 5 ? ", ..." : ""}); finish their upload sessions, then ${advice.retry}`,
      { resource: name, missing_files: String(missing.length) },
    );
  }
}

/**
 * A commit needs every staged size to be its content's stored size: a
 * draft staged before the workspace held the content (its upload session
 * then could not complete with the wrong size, but the same content may
 * arrive through another version) is refused rather than made READY.
 */
export function requireStoredSizes(
  name: string,
  draft: { path: string; size: number; sha256: string }[],
  held: ReadonlyMap<string, number>,
  advice = VERSION_ADVICE,
): void {
  const wrong = draft.filter((f) => held.has(f.sha256) && held.get(f.sha256) !== f.size);
  if (wrong.length) {
    const shown = wrong.slice(0, 5).map((f) => `${f.path}: ${f.size} bytes staged, its content is ${held.get(f.sha256)}`).join("; ");
    throw new FailedPreconditionError(
      "SIZE_MISMATCH",
      `${wrong.length} staged file(s) of ${name} declare a size their content does not have (${shown}${wrong.length > 5 ? "; ..." : ""}); ${advice.restage}`,
      { resource: name, mismatched_files: String(wrong.length) },
    );
  }
}

/** Only a READY version's files are read. */
export function requireReady(name: string, state: number): void {
  if (state !== VersionState.READY)
    throw new FailedPreconditionError("VERSION_PENDING", `${name} is PENDING: its files are not all uploaded and committed yet, so they cannot be read`, {
      resource: name,
    });
}

/** A version uid (a UUID), lowercased. */
export function checkUid(uid: string): string {
  if (!UUID.test(uid)) throw InvalidArgumentError.field("uid", `"${uid.slice(0, 40)}" is not a version uid (a UUID)`);
  return uid.toLowerCase();
}

/** A listing's page size (default 1000, at most 10,000) and the one path it is narrowed to ("" = none). */
export function checkListArgs(pageSize: number, path: string): { limit: number; only: string | undefined } {
  const v = new Violations();
  const limit = checkPageSize(v, pageSize, 1000, 10_000);
  let only: string | undefined;
  if (path !== "") {
    const r = normalizeFilePath(path);
    if (r.error !== undefined) v.add("path", `"${path.slice(0, 80)}" ${r.error}`);
    only = r.path;
  }
  if (!v.empty) throw new InvalidArgumentError(v.list);
  return { limit, only };
}

/** The normalized path of one file to read. */
export function checkFilePath(path: string): string {
  const r = normalizeFilePath(path);
  if (r.error !== undefined) throw InvalidArgumentError.field("path", `"${path.slice(0, 80)}" ${r.error}`);
  return r.path;
}

export function parseUploadSessionName(field: string, name: string): { workspace: string; id: string } {
  const parts = name.split("/");
  if (parts.length !== 4 || parts[0] !== "workspaces" || parts[2] !== "uploads" || !WORKSPACE_ID.test(parts[1]!) || !SESSION_ID.test(parts[3]!))
    throw InvalidArgumentError.field(field, `${name === "" ? "is required" : `"${name.slice(0, 80)}" is not an upload session name`}: expected workspaces/{workspace}/uploads/{upload}, as StageVersionFiles returned it`);
  return { workspace: parts[1]!, id: parts[3]! };
}

/** A write starts at a byte offset: a whole number from 0. */
export function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw InvalidArgumentError.field("offset", `${offset} is not a byte offset: expected a whole number from 0`);
}

/** A client's declared total (HTTP Content-Range) must be the session's size. */
export function checkDeclaredSize(declared: number | undefined, size: number): void {
  if (declared !== undefined && declared !== size)
    throw InvalidArgumentError.field("size_bytes", `the content was declared as ${declared} bytes, but the upload session expects ${size}`);
}

/** How many bytes one write from `offset` may carry: the rest of the content, at most one chunk. */
export function uploadRoom(size: number, offset: number, maxChunk: number): number {
  return Math.min(maxChunk, size - offset);
}

/** The refusal of a write that carried more than uploadRoom(): past the content's end, or over the chunk limit. */
export function overflowError(size: number, offset: number, maxChunk: number): InvalidArgumentError {
  if (size - offset <= maxChunk)
    return InvalidArgumentError.field("data", `the upload is ${size} bytes, but more than ${size - offset} bytes were sent from offset ${offset}`);
  return new ChunkTooLargeError(maxChunk);
}

/**
 * The refusal of a write from `offset` whose body was not as long as the
 * client declared (`got` so far, or in all); its bytes up to `committed`
 * (whole commit steps) were kept.
 */
export function lengthMismatchError(declared: number, got: number, offset: number, committed = offset): InvalidArgumentError {
  const kept =
    committed > offset ? `its bytes up to offset ${committed} were kept: send the rest from there` : `none of it was kept: send it again from offset ${offset}`;
  return InvalidArgumentError.field("data", `the chunk was declared as ${declared} bytes but carried ${got > declared ? "more" : got}; ${kept}`);
}

/** The content received does not match the session; it was dropped and the session starts over. */
export class UploadRestartedError extends InvalidArgumentError {
  constructor(cause: ChecksumMismatchError, name: string) {
    super([{ field: cause.violations[0]?.field ?? "sha256", description: `${cause.violations[0]?.description ?? "checksum mismatch"}. Upload ${name} starts over: send the content again from offset 0` }]);
  }
}

/** A chunk larger than the server accepts in one request. */
export class ChunkTooLargeError extends InvalidArgumentError {
  constructor(limit: number) {
    super([{ field: "data", description: `one request carries at most ${limit} bytes (max_chunk_bytes); send the content in chunks of at most that size` }]);
  }
}
