// `npm run bench -- export [--size-mib N] [--files N] [--rounds N] [--dir DIR] [--database-url URL] [--cpu-prof DIR]`
//
// Exports a version of random bytes (default 1 GiB in 4 files) as `tar` and
// reports MiB/s, peak RSS and CPU of the server process, beside a baseline
// measured in the same run on the same disk:
//
//   tar -cf - <same files> | tee <archive> >(openssl md5 >/dev/null) | openssl sha256
//
// (coreutils sha256sum is several times slower than OpenSSL here, so it
// would be no baseline). modelreg: CreateExport (force, so every round packs
// anew) until GetExport says SUCCEEDED, polled every 20 ms. In the first
// round the archive is downloaded and its reported md5 and sha256 checked
// against OpenSSL's. Rounds alternate which side goes first.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createRegistryClient, ExportState } from "@modelreg/sdk";
import { peakRssMb, resetPeakRss, rssMb } from "../lib/memory.js";
import { createBenchDatabase } from "../lib/database.js";
import { cpuMs, startServer, type ServerProcess, modelregServerArgs } from "../lib/processes.js";
import { fmt, table } from "../lib/stats.js";
import { createRandomFile } from "../transfer/test-file.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BENCH_TOKEN = `bench-admin.${randomBytes(32).toString("base64url")}`;
const TARGET_RATIO = 0.75;
const TARGET_RSS_MB = 200;
const MiB = 1 << 20;

const log = (s: string) => process.stderr.write(`${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function baseline(dir: string, files: string[], archive: string): Promise<number> {
  const script = `set -o pipefail; tar -cf - -C "$1" ${files.map((_, i) => `"\${${i + 3}}"`).join(" ")} | tee "$2" >(openssl md5 >/dev/null) | openssl sha256 >/dev/null`;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn("bash", ["-c", script, "bench", dir, archive, ...files], { stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e9) : reject(new Error(`baseline pipeline exited with ${code}`))));
  });
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      "size-mib": { type: "string", default: "1024" },
      files: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      dir: { type: "string" },
      "database-url": { type: "string" },
      "cpu-prof": { type: "string" },
    },
  });
  const sizeMib = Number(values["size-mib"]);
  const fileCount = Number(values.files);
  const rounds = Number(values.rounds);
  const sizeBytes = sizeMib * MiB;
  for (const tool of ["tar", "tee", "openssl", "bash"]) execFileSync("which", [tool], { stdio: "ignore" });

  const root = await mkdtemp(join(values.dir ?? tmpdir(), "modelreg-bench-export-"));
  const src = join(root, "src");
  const out = join(root, "baseline");
  await mkdir(src);
  await mkdir(out);
  const servers: ServerProcess[] = [];
  let dbUrl = "";
  let dropDatabase = async () => {};
  try {
    if (values["database-url"]) {
      const created = await createBenchDatabase(values["database-url"], log);
      dbUrl = created.url;
      dropDatabase = created.drop;
    } else log("no --database-url: modelreg runs on embedded PGlite, whose own memory (600-900 MB) counts in the server's RSS");

    log(`bench export: ${sizeMib} MiB of random bytes in ${fileCount} files under ${root}…`);
    const names = Array.from({ length: fileCount }, (_, i) => `weights/part-${String(i).padStart(3, "0")}.bin`);
    await mkdir(join(src, "weights"));
    for (const [i, name] of names.entries()) {
      const size = Math.floor(sizeBytes / fileCount) + (i === fileCount - 1 ? sizeBytes % fileCount : 0);
      await createRandomFile(join(src, name), size);
    }

    const prof = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : [];
    const server = await startServer({
      name: "modelreg",
      nodeArgs: [...prof, ...modelregServerArgs(REPO_ROOT)],
      cwd: REPO_ROOT,
      env: {
        DATA_DIR: join(root, "modelreg"),
        BLOB_STORE: "", // files under DATA_DIR/blobs, on the same disk as the baseline's archive
        DATABASE_URL: dbUrl,
        LOG_LEVEL: "warn",
        MODELREG_ADMIN_KEY: BENCH_TOKEN,
        GC_INTERVAL_SECONDS: "0",
      },
    });
    servers.push(server);
    const client = createRegistryClient({ baseUrl: server.url, accessKey: BENCH_TOKEN });
    await client.models.createModel({ parent: "workspaces/default", modelId: "bench" });
    const { version } = await client.versions.createVersion({ parent: "workspaces/default/models/bench" });
    log("uploading the version (untimed)…");
    await client.uploadDirectory(version!.name, src);
    // The server's md5 job on the new files would run into the first round: let it finish.
    for (let i = 0; i < 600; i++) {
      const files = await client.files.listVersionFiles({ version: { case: "name", value: version!.name } });
      if (files.files.every((f) => f.md5 !== "")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const idleRss = rssMb(server.pid);

    type Sample = { seconds: number; peakMb: number; cpuS: number };
    const base: number[] = [];
    const mr: Sample[] = [];
    let archiveSize = 0n;
    const exportOnce = async (round: number) => {
      const reset = resetPeakRss(server.pid);
      const cpu0 = cpuMs(server.pid);
      const t0 = process.hrtime.bigint();
      let e = await client.startExport(version!.name, "tar", { force: true });
      while (e.state === ExportState.PENDING || e.state === ExportState.RUNNING) {
        await new Promise((r) => setTimeout(r, 20));
        e = (await client.exports.getExport({ name: e.name })).export!;
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (e.state !== ExportState.SUCCEEDED) throw new Error(`export ended ${ExportState[e.state]}: ${e.errorMessage}`);
      const s = { seconds, peakMb: reset ? peakRssMb(server.pid) : NaN, cpuS: (cpuMs(server.pid) - cpu0) / 1000 };
      mr.push(s);
      archiveSize = e.sizeBytes;
      log(`  modelreg: ${fmt(seconds, 2)} s, ${fmt(sizeMib / seconds)} MiB/s, server peak ${fmt(s.peakMb)} MB, CPU ${fmt(s.cpuS, 2)} s`);
      if (round === 1) {
        // Once: the archive's reported checksums are those of its bytes.
        const target = join(root, "check.tar");
        await client.downloadExport(e, target);
        const digest = (alg: string) => execFileSync("openssl", [alg, "-r", target], { encoding: "utf8" }).split(" ")[0];
        const [md5, sha256] = [digest("md5"), digest("sha256")];
        if (md5 !== e.md5 || sha256 !== e.sha256) throw new Error(`the export reports md5 ${e.md5} and sha256 ${e.sha256}, its bytes have ${md5} and ${sha256}`);
        await rm(target);
      }
    };
    const baselineOnce = async () => {
      const archive = join(out, "baseline.tar");
      const seconds = await baseline(src, names, archive);
      base.push(seconds);
      log(`  baseline: ${fmt(seconds, 2)} s, ${fmt(sizeMib / seconds)} MiB/s (${fmt((await stat(archive)).size / MiB)} MiB archive)`);
      await rm(archive);
    };
    for (let round = 1; round <= rounds; round++) {
      log(`round ${round}/${rounds}${round % 2 === 0 ? " (modelreg first)" : ""}`);
      if (round % 2 === 0) {
        await exportOnce(round);
        await baselineOnce();
      } else {
        await baselineOnce();
        await exportOnce(round);
      }
    }

    const baseS = median(base);
    const mrS = median(mr.map((s) => s.seconds));
    const ratio = baseS / mrS;
    const ratios = base.map((b, i) => b / mr[i]!.seconds);
    const peak = Math.max(...mr.map((s) => s.peakMb));
    process.stdout.write(
      `\n${table(
        ["case", ">MiB/s", ">median s", ">ratio", ">range", ">server peak MB", ">server CPU s", "target"],
        [
          ["baseline: tar | tee | openssl md5, sha256", fmt(sizeMib / baseS), fmt(baseS, 2), "", "", "", "", ""],
          [
            "modelreg: export as tar",
            fmt(sizeMib / mrS),
            fmt(mrS, 2),
            fmt(ratio, 2),
            `${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}`,
            fmt(peak),
            fmt(median(mr.map((s) => s.cpuS)), 2),
            `≥ ${TARGET_RATIO}x ${ratio >= TARGET_RATIO ? "met" : "MISSED"}; RSS < ${TARGET_RSS_MB} MB ${peak < TARGET_RSS_MB ? "met" : "MISSED"}`,
          ],
        ],
      )}\n\n${sizeMib} MiB in ${fileCount} files, archive ${fmt(Number(archiveSize) / MiB, 1)} MiB, ${rounds} rounds; server idle RSS ${fmt(idleRss)} MB (${dbUrl ? "PostgreSQL" : "PGlite"}).\n`,
    );
  } finally {
    for (const s of servers) await s.stop(2000);
    await dropDatabase();
    await rm(root, { recursive: true, force: true });
  }
}
