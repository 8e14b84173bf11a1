// What a download keeps across runs: the partial file (atomic-file.ts,
// `<target>.modelreg-partial`) and beside it a small record,
// `<target>.modelreg-partial.json`, of the content it is a prefix of (sha256
// and size, with the version and path for people) and how many of its bytes
// are on disk for sure. A later download of the same content continues after
// those bytes; one of other content (the file was replaced, another version)
// starts over. The record only ever names bytes already fsynced, so a
// process killed at any moment leaves a record that holds.
import type { Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import type { VersionFile } from "@modelreg/proto";
import { partialPath } from "./atomic-file.js";

export interface PartialRecord {
  /** The content the partial file is the beginning of. */
  sha256: string;
  sizeBytes: number;
  /** Where it came from (for people reading the record). */
  version: string;
  path: string;
  /** Bytes of the partial file known to be on disk. */
  bytes: number;
}

export function recordPath(target: string): string {
  return `${partialPath(target)}.json`;
}

/**
 * How many bytes of a partial download of `file` at `target` a new run may
 * keep: 0 when there is none, its record is unreadable, it is of other
 * content, or the file is shorter than its record says.
 */
export async function resumableBytes(target: string, file: VersionFile): Promise<number> {
  const record = await readRecord(target);
  if (!record || record.sha256 !== file.sha256 || record.sizeBytes !== Number(file.sizeBytes)) return 0;
  const info = await stat(partialPath(target)).catch(() => undefined);
  if (!info?.isFile() || info.size < record.bytes) return 0;
  return record.bytes;
}

async function readRecord(target: string): Promise<PartialRecord | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(recordPath(target), "utf8"));
  } catch {
    return undefined;
  }
  const r = value as Partial<PartialRecord> | null;
  const count = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if (!r || typeof r.sha256 !== "string" || !count(r.sizeBytes) || !count(r.bytes) || r.bytes > r.sizeBytes) return undefined;
  return r as PartialRecord;
}

/** Removes the partial file of `target` and its record. */
export async function removePartial(target: string): Promise<void> {
  await rm(partialPath(target), { force: true });
  await rm(recordPath(target), { force: true });
}

export interface PartialRecorder {
  /** Records that `bytes` are on disk (written in the background, in order; the newest wins). */
  record(bytes: number): void;
  /** Resolves once every record asked for is written. */
  settled(): Promise<void>;
}

/**
 * Writes the record of `target`'s partial download: to a temp file renamed
 * over the record, so a reader sees the old record or the new one whole.
 * A record that cannot be written costs only the resume, never the download.
 */
export function partialRecorder(target: string, content: Omit<PartialRecord, "bytes">): PartialRecorder {
  const path = recordPath(target);
  let chain: Promise<void> = Promise.resolve();
  let latest = -1;
  return {
    record(bytes) {
      if (bytes <= latest) return;
      latest = bytes;
      chain = chain.then(async () => {
        // A newer count was asked for meanwhile: only that one is written.
        if (bytes !== latest) return;
        await writeFile(`${path}.tmp`, JSON.stringify({ ...content, bytes }));
        await rename(`${path}.tmp`, path);
      }).catch(() => {});
    },
    settled: () => chain,
  };
}

/** Feeds the first `bytes` of the file at `path` to `hash`. */
export async function hashPrefix(path: string, bytes: number, hash: Hash, signal?: AbortSignal): Promise<void> {
  if (bytes === 0) return;
  const stream = createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 4 << 20, ...(signal ? { signal } : {}) });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}
