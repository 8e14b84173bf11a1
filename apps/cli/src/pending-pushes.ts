// Pushes without `:version` that created a version and did not finish (the
// process was killed, interrupted, or failed): remembered, so that the same
// push run again goes on with that version, whose upload sessions hold what
// the stopped run sent, instead of creating another version and sending
// everything again. "The same push" is the same server, model, local path,
// description and labels; the version is taken only while it is PENDING and
// the run that created it is over (its process is gone), so two pushes
// running at once each make their own version.
//
// Kept beside the SDK's digest cache: $MODELREG_CACHE_DIR, else
// $XDG_CACHE_HOME/modelreg, else ~/.cache/modelreg, in pushes/: one small
// file per push (mode 0600), written by temp file and rename, so pushes that
// remember or forget at once never drop each other's entries. A file that
// cannot be read or written costs only the resumption: the push then makes
// a new version.
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { hostname } from "node:os";
import { cacheEntryPath, cacheFilePath, pruneCacheEntries, readCacheEntry, writeCacheEntry } from "@modelreg/sdk";
import type { Label } from "./labels.js";

interface Entry {
  version: string;
  host: string;
  pid: number;
  /** When the version was created (ms since the epoch). */
  time: number;
}

/** Entries older than the server's upload sessions (7 days) have nothing left to resume. */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const MAX_ENTRIES = 1000;

export interface PushIdentity {
  server: string;
  /** The model's resource name. */
  model: string;
  /** Absolute local path of the file or directory pushed. */
  localPath: string;
  description?: string;
  labels?: Label[];
}

export interface PendingPushes {
  /** The version a stopped run of this push created, if its process is gone; undefined otherwise. */
  find(): Promise<string | undefined>;
  /** Remembers the version this run created (before it sends anything). */
  remember(version: string): Promise<void>;
  /** Forgets this push (it finished). */
  forget(): Promise<void>;
}

/** Whether process `pid` of this machine is still running. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const keyOf = (p: PushIdentity) =>
  createHash("sha256")
    .update(
      JSON.stringify([
        p.server,
        p.model,
        p.localPath,
        p.description ?? "",
        (p.labels ?? []).map((l) => `${l.key}=${l.value}`).sort(),
      ]),
    )
    .digest("hex");

export function pendingPushes(identity: PushIdentity, env: NodeJS.ProcessEnv): PendingPushes {
  const dir = cacheFilePath("pushes", env);
  const key = keyOf(identity);
  const quietly = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch {
      // Only the resumption is lost.
    }
  };
  return {
    async find() {
      const hit = await readCacheEntry<Entry>(dir, key);
      if (!hit || Date.now() - hit.time >= MAX_AGE_MS) return undefined;
      // Another machine's run (a shared home directory) or one still running: not this push's to take.
      if (hit.host !== hostname() || (hit.pid !== process.pid && alive(hit.pid))) return undefined;
      return hit.version;
    },
    remember: (version) =>
      quietly(async () => {
        await writeCacheEntry(dir, key, { version, host: hostname(), pid: process.pid, time: Date.now() } satisfies Entry);
        // The oldest go first past MAX_ENTRIES; entries older than MAX_AGE_MS are never taken (find).
        await pruneCacheEntries(dir, MAX_ENTRIES);
      }),
    forget: () => quietly(() => rm(cacheEntryPath(dir, key), { force: true })),
  };
}
