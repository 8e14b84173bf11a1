// The machine's limit for `bench export`, measured in the same run: each
// piece of work an export must do over the version's bytes, alone, timed
// and with its CPU:
//   - md5 and sha256 of the files (read from disk and hashed), each both
//     with node:crypto in this process and with `openssl dgst`; the faster
//     counts, as the work's own speed on this machine;
//   - a buffered write of as many bytes to the same disk (1 MiB writes,
//     one fsync at the end).
// And the old reference: `tar | tee archive >(openssl md5) | openssl sha256`.
import { spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { endedChildrenCpuMs } from "../lib/machine.js";

/** One timed piece of work. */
export interface Timed {
  seconds: number;
  /** CPU of whoever did it (this process, or the command and its children). */
  cpuMs: number;
}

export type HashAlgorithm = "md5" | "sha256";

const READ_BYTES = 4 << 20;
const WRITE_BYTES = 1 << 20;

const since = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const ownCpuMs = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

/**
 * `alg` over the files, one after the other, as one digest, with
 * node:crypto: 4 MiB reads, the next read in flight while a chunk is hashed.
 */
export async function hashWithNode(alg: HashAlgorithm, paths: string[]): Promise<Timed & { digest: string }> {
  const [t0, c0] = [process.hrtime.bigint(), process.cpuUsage()];
  const hash = createHash(alg);
  const bufs = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)];
  for (const path of paths) {
    const fh = await open(path, "r");
    try {
      let i = 0;
      let pos = 0;
      let pending = fh.read(bufs[i]!, 0, READ_BYTES, pos);
      for (;;) {
        const { bytesRead, buffer } = await pending;
        if (bytesRead === 0) break;
        pos += bytesRead;
        i ^= 1;
        pending = fh.read(bufs[i]!, 0, READ_BYTES, pos);
        hash.update(buffer.subarray(0, bytesRead));
      }
    } finally {
      await fh.close();
    }
  }
  const digest = hash.digest("hex");
  return { seconds: since(t0), cpuMs: ownCpuMs(c0), digest };
}

/** Runs a command to its end; its wall time and the CPU of it and its children. */
function command(file: string, args: string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const [t0, c0] = [process.hrtime.bigint(), endedChildrenCpuMs()];
    const child = spawn(file, args, { stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      code === 0 ? resolve({ seconds: since(t0), cpuMs: endedChildrenCpuMs() - c0 }) : reject(new Error(`${file} ${args[0]} ended with ${signal ?? code}`)),
    );
  });
}

/** `openssl dgst -<alg>` over the files (a digest each; the same bytes hashed). */
export function hashWithOpenssl(alg: HashAlgorithm, paths: string[]): Promise<Timed> {
  return command("openssl", ["dgst", `-${alg}`, ...paths]);
}

/** The faster of node:crypto and openssl for `alg` over the files, and both figures. */
export async function hashBest(alg: HashAlgorithm, paths: string[]): Promise<{ best: Timed & { by: "node" | "openssl" }; node: Timed; openssl: Timed }> {
  const node = await hashWithNode(alg, paths);
  const openssl = await hashWithOpenssl(alg, paths);
  const best = node.seconds <= openssl.seconds ? { ...node, by: "node" as const } : { ...openssl, by: "openssl" as const };
  return { best, node, openssl };
}

/** Writes `sizeBytes` (random, from one 16 MiB buffer) to a new file in `dir` in 1 MiB writes, fsyncs once at the end; removes it (untimed). */
export async function bufferedWrite(dir: string, sizeBytes: number): Promise<Timed> {
  const source = randomFillSync(Buffer.allocUnsafe(16 << 20));
  const path = join(dir, "write-limit.bin");
  const [t0, c0] = [process.hrtime.bigint(), process.cpuUsage()];
  const fh = await open(path, "w");
  try {
    for (let pos = 0; pos < sizeBytes; ) {
      const n = Math.min(WRITE_BYTES, sizeBytes - pos);
      const from = pos % source.length;
      const { bytesWritten } = await fh.write(source, from, Math.min(n, source.length - from), pos);
      pos += bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  const timed = { seconds: since(t0), cpuMs: ownCpuMs(c0) };
  await rm(path, { force: true });
  return timed;
}

/** The old baseline: tar of the files | tee archive >(openssl md5) | openssl sha256; the archive is removed (untimed). */
export async function shellPipe(dir: string, files: string[], archive: string): Promise<Timed> {
  const script = `set -o pipefail; tar -cf - -C "$1" ${files.map((_, i) => `"\${${i + 3}}"`).join(" ")} | tee "$2" >(openssl md5 >/dev/null) | openssl sha256 >/dev/null`;
  const timed = await command("bash", ["-c", script, "bench", dir, archive, ...files]);
  await rm(archive, { force: true });
  return timed;
}
