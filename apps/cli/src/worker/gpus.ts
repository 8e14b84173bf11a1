// The worker's GPUs as nvidia-smi reports them, read at registration and at
// each claim (free memory changes), so that tasks needing GPUs and memory
// go to a worker that has them. No nvidia-smi: no GPUs.
import { execFile } from "node:child_process";
import type { GpuInfoInit } from "@modelreg/sdk";

export const NVIDIA_SMI_ARGS = ["--query-gpu=index,name,memory.total,memory.used,memory.free,utilization.gpu", "--format=csv,noheader,nounits"];

const MIB = 1024n * 1024n;

/** nvidia-smi's CSV (memory in MiB, utilisation in percent) as GpuInfo; lines it cannot read are left out. */
export function parseNvidiaSmi(csv: string): GpuInfoInit[] {
  const gpus: GpuInfoInit[] = [];
  for (const line of csv.split("\n")) {
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length < 5) continue;
    const [index, name, total, used, free, util] = cells;
    const whole = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? BigInt(v) : undefined);
    const [i, t, u, f] = [whole(index), whole(total), whole(used), whole(free)];
    if (i === undefined || t === undefined || u === undefined || f === undefined) continue;
    const utilization = util !== undefined && /^\d+(\.\d+)?$/.test(util) ? Number(util) / 100 : 0;
    gpus.push({ index: Number(i), name: name!, memoryTotalBytes: t * MIB, memoryUsedBytes: u * MIB, memoryFreeBytes: f * MIB, utilization });
  }
  return gpus;
}

/** A function reading the GPUs now; once nvidia-smi is found missing it is not looked for again. */
export function gpuReader(command = "nvidia-smi"): () => Promise<GpuInfoInit[]> {
  let missing = false;
  return () =>
    new Promise((resolve) => {
      if (missing) return resolve([]);
      execFile(command, NVIDIA_SMI_ARGS, { timeout: 10_000 }, (err, stdout) => {
        if (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") missing = true;
          return resolve([]);
        }
        resolve(parseNvidiaSmi(stdout));
      });
    });
}
