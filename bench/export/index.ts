// `npm run bench -- export [--size-mib N] [--files N] [--rounds N] [--dir DIR] [--database-url URL] [--cpu-prof DIR]
//   [--server-arg=--node-flag ...] [--server-log FILE]`
//
// Exports a version of random bytes (default 1 GiB in 4 files) as `tar` and
// reports its MiB/s against the machine's limit measured in the same round
// on the same disk (issue 17, item 6). An export reads the version's files,
// frames them as tar, computes sha256 (main thread) and md5 (a worker
// thread) of the archive, and writes it to the blob store with an fsync
// (apps/server/src/jobs/export-job.ts, storage/fs-writes.ts). The limit is
// the slowest of those pieces of work, each measured alone over the same
// bytes (./limit.ts):
//   md5 of the files read from disk, sha256 of the same, each the faster of
//   node:crypto and `openssl dgst`; and a buffered write of as many bytes to
//   the same disk (1 MiB writes, fsync at the end).
// The pieces overlap in an export (md5 and sha256 on two threads, the write
// in the kernel), so the slowest of them bounds it; tar framing (512 bytes
// per file) is left out as negligible. Target: export ≥ 0.75× the limit.
//
// The old baseline, `tar | tee archive >(openssl md5) | openssl sha256`,
// is kept as a reference line (its pipes, not the work, limit it).
//
// modelreg: CreateExport (force, so every round packs anew) until GetExport
// says SUCCEEDED, polled every 20 ms. In the first round the archive is
// downloaded and its reported md5 and sha256 checked against OpenSSL's.
// Rounds (default 3) alternate which side goes first. Reported: per round
// and min/median over rounds, CPU s/GiB of each side, and the load average
// at start and end.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createRegistryClient, ExportState } from "@modelreg/sdk";
import { DEFAULT_ROUNDS, describeLoad, parseRounds, readLoad } from "../lib/machine.js";
import { peakRssMb, resetPeakRss, rssMb } from "../lib/memory.js";
import { createBenchDatabase } from "../lib/database.js";
import { cpuMs, SERVER_DEBUG_OPTIONS, serverDebug, type ServerProcess, startModelregServer } from "../lib/processes.js";
import { fmt, median, table } from "../lib/stats.js";
import { createRandomFile } from "../transfer/test-file.js";
import { bufferedWrite, hashBest, shellPipe, type Timed } from "./limit.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BENCH_TOKEN = `bench-admin.${randomBytes(32).toString("base64url")}`;
const TARGET_RATIO = 0.75;
const TARGET_RSS_MB = 200;
const MiB = 1 << 20;

const log = (s: string) => process.stderr.write(`${s}\n`);

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      "size-mib": { type: "string", default: "1024" },
      files: { type: "string", default: "4" },
      rounds: { type: "string", default: String(DEFAULT_ROUNDS) },
      dir: { type: "string" },
      "database-url": { type: "string" },
      ...SERVER_DEBUG_OPTIONS,
    },
  });
  const sizeMib = Number(values["size-mib"]);
  const fileCount = Number(values.files);
  const rounds = parseRounds(values.rounds);
  if (!(Number.isInteger(sizeMib) && sizeMib >= 1)) throw new Error(`--size-mib ${values["size-mib"]}: expected a whole number ≥ 1`);
  if (!(Number.isInteger(fileCount) && fileCount >= 1)) throw new Error(`--files ${values.files}: expected a whole number ≥ 1`);
  const sizeBytes = sizeMib * MiB;
  const loadAtStart = readLoad();
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

    const debug = serverDebug(values);
    const server = await startModelregServer({
      name: "modelreg",
      nodeArgs: debug.nodeArgs,
      onLine: debug.onLine("modelreg"),
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

    // What each round measured.
    interface Round {
      md5: Awaited<ReturnType<typeof hashBest>>;
      sha256: Awaited<ReturnType<typeof hashBest>>;
      write: Timed;
      /** The slowest of md5, sha256 and write. */
      limit: { seconds: number; by: string };
      reference: Timed;
      export: { seconds: number; peakMb: number; serverCpuMs: number; clientCpuMs: number };
    }
    const done: Round[] = [];
    let archiveSize = 0n;
    const srcFiles = names.map((n) => join(src, n));
    const exportOnce = async (round: number): Promise<Round["export"]> => {
      const reset = resetPeakRss(server.pid);
      const [srv0, cli0, t0] = [cpuMs(server.pid), process.cpuUsage(), process.hrtime.bigint()];
      let e = await client.startExport(version!.name, "tar", { force: true });
      while (e.state === ExportState.PENDING || e.state === ExportState.RUNNING) {
        await new Promise((r) => setTimeout(r, 20));
        e = (await client.exports.getExport({ name: e.name })).export!;
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cli = process.cpuUsage(cli0);
      if (e.state !== ExportState.SUCCEEDED) throw new Error(`export ended ${ExportState[e.state]}: ${e.errorMessage}`);
      const x = { seconds, peakMb: reset ? peakRssMb(server.pid) : NaN, serverCpuMs: cpuMs(server.pid) - srv0, clientCpuMs: (cli.user + cli.system) / 1000 };
      archiveSize = e.sizeBytes;
      log(`  modelreg export: ${fmt(seconds, 2)} s, ${fmt(sizeMib / seconds)} MiB/s, server peak ${fmt(x.peakMb)} MB, server CPU ${fmt(x.serverCpuMs / 1000, 2)} s`);
      if (round === 1) {
        // Once: the archive's reported checksums are those of its bytes.
        const target = join(root, "check.tar");
        await client.downloadExport(e, target);
        const digest = (alg: string) => execFileSync("openssl", [alg, "-r", target], { encoding: "utf8" }).split(" ")[0];
        const [md5, sha256] = [digest("md5"), digest("sha256")];
        if (md5 !== e.md5 || sha256 !== e.sha256) throw new Error(`the export reports md5 ${e.md5} and sha256 ${e.sha256}, its bytes have ${md5} and ${sha256}`);
        await rm(target);
      }
      return x;
    };
    const rate = (t: { seconds: number }) => sizeMib / t.seconds;
    const limitOnce = async () => {
      const md5 = await hashBest("md5", srcFiles);
      const sha256 = await hashBest("sha256", srcFiles);
      const write = await bufferedWrite(out, sizeBytes);
      const parts = [
        { by: `md5 (${md5.best.by})`, seconds: md5.best.seconds },
        { by: `sha256 (${sha256.best.by})`, seconds: sha256.best.seconds },
        { by: "write+fsync", seconds: write.seconds },
      ];
      const limit = parts.reduce((a, b) => (b.seconds > a.seconds ? b : a));
      const reference = await shellPipe(src, names, join(out, "baseline.tar"));
      log(
        `  limit: md5 ${fmt(rate(md5.node))} MiB/s node, ${fmt(rate(md5.openssl))} openssl; sha256 ${fmt(rate(sha256.node))} node, ${fmt(rate(sha256.openssl))} openssl; write+fsync ${fmt(rate(write))} → ${fmt(rate(limit))} MiB/s (${limit.by}); shell pipe ${fmt(rate(reference))} MiB/s`,
      );
      return { md5, sha256, write, limit, reference };
    };
    for (let round = 1; round <= rounds; round++) {
      const flip = round % 2 === 0;
      log(`round ${round}/${rounds}${flip ? " (modelreg first)" : ""}`);
      if (flip) {
        const x = await exportOnce(round);
        done.push({ ...(await limitOnce()), export: x });
      } else {
        const l = await limitOnce();
        done.push({ ...l, export: await exportOnce(round) });
      }
    }
    const loadAtEnd = readLoad();

    const gib = sizeMib / 1024;
    const perGib = (ms: number) => fmt(ms / 1000 / gib, 2);
    const ratios = done.map((r) => r.limit.seconds / r.export.seconds);
    const peak = Math.max(...done.map((r) => r.export.peakMb));
    const perRound = table(
      ["round", ">md5 node", ">md5 openssl", ">sha256 node", ">sha256 openssl", ">write+fsync", ">limit", "bound by", ">export", ">export/limit", ">shell pipe (ref.)"],
      done.map((r, i) => [
        String(i + 1),
        fmt(rate(r.md5.node)),
        fmt(rate(r.md5.openssl)),
        fmt(rate(r.sha256.node)),
        fmt(rate(r.sha256.openssl)),
        fmt(rate(r.write)),
        fmt(rate(r.limit)),
        r.limit.by,
        fmt(rate(r.export)),
        `${fmt(ratios[i], 2)}×`,
        fmt(rate(r.reference)),
      ]),
    );
    // Summary rows: MiB/s median and min over rounds, CPU s/GiB (median) of whoever did the work.
    const summary = (name: string, times: number[], cpu: string) => [name, fmt(sizeMib / median(times)), fmt(sizeMib / Math.max(...times)), cpu];
    const md = (xs: number[]) => perGib(median(xs));
    const cpuTable = table(
      ["work", ">MiB/s median", ">MiB/s min", "CPU s/GiB (median)"],
      [
        summary("md5, faster of node:crypto/openssl", done.map((r) => r.md5.best.seconds), `${md(done.map((r) => r.md5.best.cpuMs))} (${done.map((r) => r.md5.best.by).join("/")})`),
        summary("sha256, faster of node:crypto/openssl", done.map((r) => r.sha256.best.seconds), `${md(done.map((r) => r.sha256.best.cpuMs))} (${done.map((r) => r.sha256.best.by).join("/")})`),
        summary("buffered write + fsync (this process)", done.map((r) => r.write.seconds), md(done.map((r) => r.write.cpuMs))),
        summary("limit = the slowest of the three", done.map((r) => r.limit.seconds), ""),
        summary("modelreg export as tar", done.map((r) => r.export.seconds), `server ${md(done.map((r) => r.export.serverCpuMs))}, client ${md(done.map((r) => r.export.clientCpuMs))} (polling)`),
        summary("reference, not the ratio's baseline: tar | tee | openssl md5, sha256", done.map((r) => r.reference.seconds), `${md(done.map((r) => r.reference.cpuMs))} (bash and its children)`),
      ],
    );
    const ratioMin = Math.min(...ratios);
    const ratioMed = median(ratios);
    process.stdout.write(
      [
        "",
        `bench export — ${new Date().toISOString()}, node ${process.version}, ${availableParallelism()} CPUs`,
        describeLoad(loadAtStart, loadAtEnd),
        `${sizeMib} MiB in ${fileCount} files, archive ${fmt(Number(archiveSize) / MiB, 1)} MiB, ${rounds} round(s); modelreg on ${dbUrl ? "PostgreSQL" : "PGlite"}, server idle RSS ${fmt(idleRss)} MB.`,
        "All MiB/s are of the version's bytes. limit = the slowest, in that round, of: md5 and sha256 of the same files read from disk (each the faster of node:crypto in this process and `openssl dgst`), and a buffered write of as many bytes to the same disk (1 MiB writes, fsync at the end). The export must do all three (sha256 and md5 of the archive on two threads, the write with fsync), so the slowest bounds it.",
        "",
        "Per round (MiB/s):",
        perRound,
        "",
        cpuTable,
        "",
        `export/limit per round ${ratios.map((x) => `${fmt(x, 2)}×`).join(" ")}; min ${fmt(ratioMin, 2)}×, median ${fmt(ratioMed, 2)}×: target ≥ ${TARGET_RATIO}× ${ratioMed >= TARGET_RATIO ? "met" : "MISSED"} (median), ${ratioMin >= TARGET_RATIO ? "met" : "MISSED"} (min); server peak RSS ${fmt(peak)} MB, target < ${TARGET_RSS_MB} MB ${peak < TARGET_RSS_MB ? "met" : "MISSED"}.`,
        "",
      ].join("\n"),
    );
  } finally {
    for (const s of servers) await s.stop(2000);
    await dropDatabase();
    await rm(root, { recursive: true, force: true });
  }
}
