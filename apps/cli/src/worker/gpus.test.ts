import { expect, it } from "vitest";
import { gpuReader, parseNvidiaSmi } from "./gpus.js";

it("reads nvidia-smi's CSV (MiB, percent), leaving out lines it cannot read", () => {
  const csv = "0, NVIDIA A100-SXM4-40GB, 40960, 1024, 39936, 12\n1, NVIDIA A100-SXM4-40GB, 40960, 40960, 0, [N/A]\nNo devices were found\n\n";
  expect(parseNvidiaSmi(csv)).toEqual([
    { index: 0, name: "NVIDIA A100-SXM4-40GB", memoryTotalBytes: 40960n << 20n, memoryUsedBytes: 1024n << 20n, memoryFreeBytes: 39936n << 20n, utilization: 0.12 },
    { index: 1, name: "NVIDIA A100-SXM4-40GB", memoryTotalBytes: 40960n << 20n, memoryUsedBytes: 40960n << 20n, memoryFreeBytes: 0n, utilization: 0 },
  ]);
});

it("reports no GPUs where there is no nvidia-smi", async () => {
  const read = gpuReader("modelreg-test-no-such-nvidia-smi");
  expect(await read()).toEqual([]);
  expect(await read()).toEqual([]);
});
