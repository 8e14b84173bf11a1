// `npm run bench -- transfer [--size-mib N] [--rounds N] [--dir DIR] [--database-url URL] [--cpu-prof DIR]`
// (--cpu-prof: every server process writes a V8 CPU profile there, and each
// case logs its time window on the profiles' clock.)
//
// Moves one file of random bytes (default 1 GiB) up and down on loopback and
// reports MiB/s, peak RSS and CPU per GiB of the server process and of the
// client per case, the ratio to its baseline per round, and the load average
// at start and end, beside two
// baselines measured in the same run, each its own server process:
//   A "node:http": PUT/GET on a bare node:http server (./http-baseline-server.ts):
//     up = sha256 + write + fsync on the server, each upload into a new
//     file that is kept (./kept-files.ts); down = the server serves as
//     modelreg's byte route does (1 MiB reads, the digest stored at upload
//     as etag, no hashing), the client writes + sha256s.
//   B "Connect-ES": a bare Connect-ES v2 server over h2c (./connect-baseline-server.ts),
//     FileService.WriteUpload / ReadFile only, 1 MiB messages, compression off;
//     ReadFile serves as modelreg's does (1 MiB reads, stored digest, no hashing).
//   modelreg (apps/server/dist/main.mjs, the bundle npm start runs, embedded PGlite unless --database-url):
//     the SDK's uploadFile / downloadToFile, transport "http" (compared with A)
//     and "stream" (compared with B); and a re-upload of content the
//     workspace already holds (compared with the first upload).
// The clients run in this process. Every upload sends new content (the
// first bytes of the file change, untimed), and after a modelreg upload the
// next case waits for the server's md5 job on the new content (its cost is
// reported apart). Each round (--rounds, default 3) runs each pair of cases
// (baseline, modelreg) in the order A B B A (the next round B A A B), and a
// case's figure for the round is the mean of its two runs, so a drift in the
// machine's speed weighs on both alike. Nothing the bench writes is deleted
// before it ends (uploads on both sides, downloaded files), which needs
// about 16 x rounds + 1 times the file's size on disk. Why: on these VMs,
// memory the kernel freed goes back to the host within seconds, and writing
// 1 GiB into the page cache took 0.2 s into pages freed just before against
// 1.7-2.5 s into pages the host had taken back (a plain write loop, same
// file size), so a case that ran right after a file was deleted (a
// download's, a baseline overwriting its last upload) wrote several times
// faster than the next.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, stat, statfs } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { minorFaults, peakRssMb, resetPeakRss, rssMb } from "../lib/memory.js";
import { createBenchDatabase } from "../lib/database.js";
import { DEFAULT_ROUNDS, describeLoad, type LoadReading, parseRounds, readLoad } from "../lib/machine.js";
import { cpuMs, onInterrupt, startServer, type ServerProcess, startModelregServer } from "../lib/processes.js";
import { fmt, median, table } from "../lib/stats.js";
import { connectDownload, connectUpload, httpDownload, httpUpload, MESSAGE_BYTES } from "./baseline-clients.js";
import { createModelregCases, type ModelregCases, type Phases } from "./modelreg-cases.js";
import { createRandomFile, freshContent, sha256File } from "./test-file.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BENCH_TOKEN = `bench-admin.${randomBytes(32).toString("base64url")}`;
const TARGET_RATIO = 0.8;
/** The plain-HTTP upload, hashing included (issue 17): at least this of node:http's. */
const TARGET_HTTP_UP_RATIO = 0.9;
const TARGET_RSS_MB = 200;
const TARGET_REUPLOAD = 0.01;
const MiB = 1 << 20;

type Direction = "up" | "down";

/** One timed run of one case. */
interface Sample {
  /** End to end, s. */
  seconds: number;
  /** Bytes on the wire only, s (modelreg: without the SDK's local sha256 pass before an upload, or its fsync after a download), when known. */
  transferSeconds?: number;
  /** modelreg: seconds per phase of the SDK call. */
  phases?: Phases;
  serverPeakMb: number;
  serverRssBeforeMb: number;
  serverCpuMs: number;
  /** Minor page faults of the server process during the case. */
  serverFaults: number;
  clientCpuMs: number;
}

interface Row {
  case: string;
  direction: Direction;
  samples: Sample[];
  /** MiB/s from the median time (or transfer time). */
  mibPerS: number;
  seconds: number;
  /** Seconds of each round (this row's variant: end to end, transfer only, …), in round order. */
  roundSeconds: number[];
  /** Median of the per-round ratios. */
  ratio?: number;
  /** The ratio of each round (each round runs the two twice, A B B A), in round order. */
  ratios?: number[];
  target?: string;
  pass?: boolean;
  rssTarget?: boolean;
}


/** A case's two runs in one round as one sample: times, CPU and faults averaged, the higher peak, the lower RSS before. */
function bothRuns(a: Sample, b: Sample): Sample {
  const mean = (x: number, y: number) => (x + y) / 2;
  const phases = a.phases && b.phases ? Object.fromEntries(Object.entries(a.phases).map(([k, v]) => [k, mean(v, b.phases![k] ?? NaN)])) : undefined;
  return {
    seconds: mean(a.seconds, b.seconds),
    transferSeconds: a.transferSeconds === undefined || b.transferSeconds === undefined ? undefined : mean(a.transferSeconds, b.transferSeconds),
    phases,
    serverPeakMb: Math.max(a.serverPeakMb, b.serverPeakMb),
    serverRssBeforeMb: Math.min(a.serverRssBeforeMb, b.serverRssBeforeMb),
    serverCpuMs: mean(a.serverCpuMs, b.serverCpuMs),
    serverFaults: mean(a.serverFaults, b.serverFaults),
    clientCpuMs: mean(a.clientCpuMs, b.clientCpuMs),
  };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "size-mib": { type: "string", default: "1024" },
      rounds: { type: "string", default: String(DEFAULT_ROUNDS) },
      dir: { type: "string" },
      "database-url": { type: "string" },
      "cpu-prof": { type: "string" },
    },
  });
  const sizeMib = Number(values["size-mib"]);
  if (!(Number.isInteger(sizeMib) && sizeMib >= 1 && sizeMib <= 64 * 1024)) throw new Error(`--size-mib ${values["size-mib"]}: expected a whole number from 1 to 65536`);
  const rounds = parseRounds(values.rounds);
  const sizeBytes = sizeMib * MiB;
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const loadAtStart = readLoad();

  // One temporary root on one disk: the source file, every server's data
  // directory and the clients' downloads.
  const root = await mkdtemp(join(values.dir ?? tmpdir(), "modelreg-bench-transfer-"));
  onInterrupt(() => rm(root, { recursive: true, force: true }));
  const dirs = { src: join(root, "src"), http: join(root, "http-baseline"), connect: join(root, "connect-baseline"), modelreg: join(root, "modelreg"), client: join(root, "client") };
  for (const d of Object.values(dirs)) await mkdir(d);
  const src = join(dirs.src, "model.bin");
  const servers: ServerProcess[] = [];
  const prof = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : [];
  let mrCases: ModelregCases | undefined;
  // --database-url names a PostgreSQL server (loopback) where the bench
  // creates a database of its own for modelreg, dropped at the end.
  let dbUrl = "";
  let dropDatabase = async () => {};

  try {
    if (values["database-url"]) {
      const created = await createBenchDatabase(values["database-url"], log);
      dbUrl = created.url;
      dropDatabase = created.drop;
    }
    const need = (16 * rounds + 1) * sizeBytes;
    const { bavail, bsize } = await statfs(root);
    if (bavail * bsize < need)
      throw new Error(`bench transfer keeps every file it writes until it ends: it needs about ${fmt(need / 2 ** 30, 1)} GiB free in ${root}, and there are ${fmt((bavail * bsize) / 2 ** 30, 1)}; use --dir, --size-mib or --rounds`);
    log(`bench transfer: ${sizeMib} MiB of random bytes in ${root}…`);
    await createRandomFile(src, sizeBytes);

    const httpBase = await startServer({ name: "node:http", nodeArgs: [...prof, "--conditions=@modelreg/source", "--import", "tsx", "bench/transfer/http-baseline-server.ts"], cwd: REPO_ROOT, env: { DATA_DIR: dirs.http } });
    servers.push(httpBase);
    const connectBase = await startServer({ name: "Connect-ES", nodeArgs: [...prof, "--conditions=@modelreg/source", "--import", "tsx", "bench/transfer/connect-baseline-server.ts"], cwd: REPO_ROOT, env: { DATA_DIR: dirs.connect } });
    servers.push(connectBase);

    let modelreg: ServerProcess | undefined;
    let missing: string | undefined;
    log("starting modelreg…");
    try {
      modelreg = await startModelregServer({
        name: "modelreg",
        nodeArgs: prof,
        cwd: REPO_ROOT,
        env: {
          DATA_DIR: dirs.modelreg,
          BLOB_STORE: "", // files under DATA_DIR/blobs, on the same disk as the baselines' files
          DATABASE_URL: dbUrl, // empty = embedded PGlite, whatever the caller's environment says
          LOG_LEVEL: "warn",
          MODELREG_ADMIN_KEY: BENCH_TOKEN,
          RATE_LIMIT_PER_KEY: "1000000",
          RATE_LIMIT_BURST: "1000000",
        },
      });
      servers.push(modelreg);
      mrCases = await createModelregCases(modelreg.url, BENCH_TOKEN);
    } catch (err) {
      // The baselines still run: report why modelreg could not.
      missing = `modelreg did not start: ${(err instanceof Error ? err.message : String(err)).split("\n").find((l) => /Error/.test(l)) ?? String(err)}`;
      if (modelreg) {
        servers.splice(servers.indexOf(modelreg), 1);
        await modelreg.stop(1000);
      }
      modelreg = undefined;
    }
    if (missing) log(`modelreg cases skipped: ${missing}`);
    const idleRss = new Map(servers.map((s) => [s.name, rssMb(s.pid)]));

    const samples = new Map<string, Sample[]>();
    type Timed = { transferSeconds?: number; phases?: Phases } | undefined;
    const measure = async (key: string, server: ServerProcess, body: () => Promise<Timed>): Promise<Sample> => {
      const peakReset = resetPeakRss(server.pid);
      const rssBefore = rssMb(server.pid);
      const [srv0, flt0, cli0, t0] = [cpuMs(server.pid), minorFaults(server.pid), process.cpuUsage(), process.hrtime.bigint()];
      const { transferSeconds, phases } = (await body()) ?? {};
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cli = process.cpuUsage(cli0);
      const s: Sample = {
        seconds,
        transferSeconds,
        phases,
        serverPeakMb: peakReset ? peakRssMb(server.pid) : NaN,
        serverRssBeforeMb: rssBefore,
        serverCpuMs: cpuMs(server.pid) - srv0,
        serverFaults: minorFaults(server.pid) - flt0,
        clientCpuMs: (cli.user + cli.system) / 1000,
      };
      samples.set(key, [...(samples.get(key) ?? []), s]);
      // With --cpu-prof, the case's window on the profiles' clock (µs of CLOCK_MONOTONIC), to slice them by case.
      if (values["cpu-prof"]) log(`  ${key}: monotonic µs ${t0 / 1000n}–${process.hrtime.bigint() / 1000n}`);
      log(`  ${key}: ${fmt(seconds, 2)} s${transferSeconds === undefined ? "" : ` (transfer ${fmt(transferSeconds, 2)} s)`}, ${fmt(sizeMib / seconds)} MiB/s, server peak ${fmt(s.serverPeakMb)} MB`);
      return s;
    };
    // The server's work after an upload (md5 of new content), timed apart.
    const afterwork = new Map<string, { seconds: number; serverCpuMs: number; done: boolean }[]>();
    const settle = async (key: string, server: ServerProcess, wait: () => Promise<boolean>) => {
      const [srv0, t0] = [cpuMs(server.pid), process.hrtime.bigint()];
      const done = await wait();
      const a = { seconds: Number(process.hrtime.bigint() - t0) / 1e9, serverCpuMs: cpuMs(server.pid) - srv0, done };
      afterwork.set(key, [...(afterwork.get(key) ?? []), a]);
      log(`    md5 after ${key}: ${done ? "" : "NOT DONE after "}${fmt(a.seconds, 2)} s, ${fmt(a.serverCpuMs / 1000, 2)} s server CPU`);
    };
    const check = (what: string, got: string, want: string) => {
      if (got !== want) throw new Error(`${what}: sha256 ${got || "(none)"}, expected ${want}`);
    };

    // Every file the bench writes stays until it ends (see the head of this file).
    let downloads = 0;
    for (let round = 1; round <= rounds; round++) {
      const flip = round % 2 === 0;
      // Each pair runs A B B A (the next round B A A B): see the head of this file.
      const order = <T>(a: T, b: T): T[] => (flip ? [b, a, a, b] : [a, b, b, a]);
      log(`round ${round}/${rounds}${flip ? " (modelreg first)" : ""}`);
      const digests = new Map<string, string>();

      // Uploads: node:http and modelreg http, then Connect-ES and modelreg stream.
      const up: Record<string, () => Promise<void>> = {
        "node:http": async () => {
          const sha = await freshContent(src);
          digests.set("node:http", sha);
          await measure("node:http up", httpBase, async () => {
            check("node:http up", await httpUpload(httpBase.url, "model.bin", src, sizeBytes), sha);
            return undefined;
          });
        },
        "Connect-ES": async () => {
          const sha = await freshContent(src);
          digests.set("Connect-ES", sha);
          await measure("Connect-ES up", connectBase, async () => {
            check("Connect-ES up", await connectUpload(connectBase.url, "model.bin", src), sha);
            return undefined;
          });
        },
      };
      const mrUp = (transport: "http" | "stream") => async () => {
        const mr = mrCases;
        if (!mr || !modelreg) return;
        const sha = await freshContent(src);
        digests.set(`modelreg ${transport}`, sha);
        const version = await mr.newVersion();
        let result: { sha256: string; transferSeconds: number; phases: Phases } | undefined;
        await measure(`modelreg ${transport} up`, modelreg, async () => {
          result = await mr.upload(version, src, transport);
          return result;
        });
        check(`modelreg ${transport} up`, result!.sha256, sha);
        mr.remember(transport, version);
        await settle(`modelreg ${transport} up`, modelreg, () => mr.settle(version, 120_000));
        // Content the workspace now holds, into a second version: no bytes should move.
        const again = await mr.newVersion();
        await measure(`modelreg ${transport} re-upload`, modelreg, async () => {
          result = await mr.upload(again, src, transport);
          return result;
        });
        check(`modelreg ${transport} re-upload`, result!.sha256, sha);
      };
      for (const step of [...order(up["node:http"]!, mrUp("http")), ...order(up["Connect-ES"]!, mrUp("stream"))]) await step();

      // Downloads, same pairing; each client file is removed right after its case.
      // `get` returns the sha256 it computed on the way (baselines), or
      // nothing (modelreg: then the file is hashed, untimed).
      const down = async (key: string, server: ServerProcess, get: (dst: string) => Promise<{ sha256?: string } & Timed>, want: string | undefined) => {
        const dst = join(dirs.client, `${key.replace(/[^a-z0-9]+/gi, "-")}-${++downloads}.bin`);
        let sha: string | undefined;
        await measure(`${key} down`, server, async () => {
          const got = await get(dst);
          sha = got?.sha256;
          return got;
        });
        sha ??= await sha256File(dst);
        const { size } = await stat(dst);
        if (size !== sizeBytes) throw new Error(`${key} down: ${size} bytes, expected ${sizeBytes}`);
        check(`${key} down`, sha, want ?? "");
      };
      const mrDown = (transport: "http" | "stream") => async () => {
        const mr = mrCases;
        if (!mr || !modelreg) return;
        await down(`modelreg ${transport}`, modelreg, (dst) => mr.download(transport, dst), digests.get(`modelreg ${transport}`));
      };
      const httpDown = () => down("node:http", httpBase, async (dst) => ({ sha256: await httpDownload(httpBase.url, "model.bin", dst) }), digests.get("node:http"));
      const connectDown = () => down("Connect-ES", connectBase, async (dst) => ({ sha256: await connectDownload(connectBase.url, "model.bin", dst) }), digests.get("Connect-ES"));
      for (const step of [...order(httpDown, mrDown("http")), ...order(connectDown, mrDown("stream"))]) await step();

      // Each case ran twice this round: one sample of the two.
      for (const ss of samples.values()) if (ss.length > round) ss.splice(round - 1, 2, bothRuns(ss[round - 1]!, ss[round]!));
    }

    // Rows: each baseline, then the modelreg path compared with it. Ratios
    // are medians of per-round ratios (each round runs the two twice, A B B A).
    const rows: Row[] = [];
    type Variant = "end to end" | "transfer only" | "server calls only";
    const secondsOf = (s: Sample, v: Variant) =>
      v === "end to end" ? s.seconds : v === "transfer only" ? (s.transferSeconds ?? NaN) : s.seconds - (s.phases?.hash ?? NaN) - (s.phases?.rest ?? 0);
    const row = (key: string, direction: Direction, v: Variant = "end to end"): Row | undefined => {
      const ss = samples.get(key);
      if (!ss?.length) return undefined;
      const roundSeconds = ss.map((s) => secondsOf(s, v));
      const seconds = median(roundSeconds);
      if (!Number.isFinite(seconds)) return undefined;
      return { case: v === "end to end" ? key : `${key} (${v})`, direction, samples: ss, seconds, roundSeconds, mibPerS: sizeMib / seconds };
    };
    const perRound = (r: Row, v: Variant, base: Row, baseV: Variant, f: (m: number, b: number) => number) => {
      const xs = r.samples.map((s, i) => f(secondsOf(s, v), base.samples[i] ? secondsOf(base.samples[i]!, baseV) : NaN));
      return { ratio: median(xs), ratios: xs };
    };
    const peakOk = (r: Row) => Math.max(...r.samples.map((s) => s.serverPeakMb)) < TARGET_RSS_MB;
    for (const direction of ["up", "down"] as const)
      for (const [base, path] of [
        ["node:http", "modelreg http"],
        ["Connect-ES", "modelreg stream"],
      ] as const) {
        const b = row(`${base} ${direction}`, direction);
        if (b) rows.push(b);
        for (const v of ["end to end", "transfer only"] as const) {
          const m = row(`${path} ${direction}`, direction, v);
          if (!m) continue;
          // Throughput ratio = baseline time / modelreg time.
          Object.assign(m, b ? perRound(m, v, b, "end to end", (mt, bt) => bt / mt) : { ratio: NaN });
          const target = path === "modelreg http" && direction === "up" ? TARGET_HTTP_UP_RATIO : TARGET_RATIO;
          m.target = `≥${target}× ${base}`;
          m.pass = m.ratio! >= target;
          m.rssTarget = peakOk(m);
          rows.push(m);
        }
        if (direction === "up") {
          const first = row(`${path} up`, "up");
          for (const v of ["end to end", "server calls only"] as const) {
            const again = row(`${path} re-upload`, "up", v);
            if (!first || !again) continue;
            Object.assign(again, perRound(again, v, first, "end to end", (at, ft) => at / ft));
            again.mibPerS = NaN;
            again.target = `<${TARGET_REUPLOAD * 100}% of first upload`;
            again.pass = again.ratio! < TARGET_REUPLOAD;
            again.rssTarget = peakOk(again);
            rows.push(again);
          }
        }
      }
    print({ rows, sizeMib, rounds, idleRss, missing, samples, afterwork, databaseUrl: values["database-url"], load: [loadAtStart, readLoad()] });
  } catch (err) {
    // What the servers said last explains most failures of a case.
    for (const s of servers) if (s.tail()) log(`--- last lines of ${s.name} ---\n${s.tail()}`);
    throw err;
  } finally {
    mrCases?.close();
    for (const s of servers.reverse()) {
      await s.stop(values["cpu-prof"] ? 60_000 : 5000).catch(() => {});
      if (values["cpu-prof"]) log(`${s.name} CPU profile written to ${values["cpu-prof"]}/CPU.*.${s.pid}.0.*.cpuprofile`);
    }
    await rm(root, { recursive: true, force: true });
    await dropDatabase();
  }
}

function print(o: {
  rows: Row[];
  sizeMib: number;
  rounds: number;
  idleRss: Map<string, number>;
  missing: string | undefined;
  samples: Map<string, Sample[]>;
  afterwork: Map<string, { seconds: number; serverCpuMs: number; done: boolean }[]>;
  databaseUrl: string | undefined;
  load: [LoadReading, LoadReading];
}): void {
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
  const gib = o.sizeMib / 1024;
  /** CPU seconds per GiB moved. */
  const perGib = (ms: number) => ms / 1000 / gib;
  const isReupload = (r: Row) => r.case.includes("re-upload");
  const ratioText = (r: Row, x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "—" : isReupload(r) ? `${fmt(x * 100, 2)}%` : `${fmt(x, 2)}×`);
  const finite = (xs: number[] | undefined) => (xs ?? []).filter(Number.isFinite);
  const body = o.rows.map((r) => [
    r.case,
    r.direction,
    fmt(r.mibPerS),
    fmt(r.seconds, 2),
    r.ratios ? ratioText(r, r.ratio) : "baseline",
    // The worst round: the lowest throughput ratio, the highest re-upload share.
    r.ratios ? ratioText(r, finite(r.ratios).length ? (isReupload(r) ? Math.max : Math.min)(...finite(r.ratios)) : NaN) : "",
    r.ratios ? r.ratios.map((x) => ratioText(r, x)).join(" ") : "",
    r.target ?? "",
    r.pass === undefined ? "" : r.pass ? "PASS" : "MISS",
    fmt(max(r.samples.map((s) => s.serverPeakMb))),
    fmt(median(r.samples.map((s) => s.serverRssBeforeMb))),
    r.rssTarget === undefined ? "" : r.rssTarget ? "PASS" : "MISS",
    fmt(perGib(median(r.samples.map((s) => s.serverCpuMs))), 2),
    fmt(perGib(median(r.samples.map((s) => s.clientCpuMs))), 2),
    fmt(median(r.samples.map((s) => s.serverFaults)) / 1000),
  ]);
  // Per round: each row's MiB/s (re-upload: seconds) and its ratio that round.
  const perRoundRows = o.rows.map((r) => [
    r.case,
    r.direction,
    ...Array.from({ length: o.rounds }, (_, i) => {
      const sec = r.roundSeconds[i];
      if (sec === undefined || !Number.isFinite(sec)) return "—";
      const figure = isReupload(r) ? `${fmt(sec, 2)} s` : fmt(o.sizeMib / sec);
      return r.ratios ? `${figure} (${ratioText(r, r.ratios[i])})` : figure;
    }),
  ]);
  const phases = (p: Phases | undefined) =>
    p
      ? ` (${Object.entries(p)
          .map(([k, v]) => `${k} ${fmt(v, Number.isInteger(v) ? 0 : 2)}`)
          .join(", ")})`
      : "";
  const perRound = [...o.samples.entries()].map(
    ([k, ss]) => `  ${k}: ${ss.map((s) => `${fmt(s.seconds, 2)} s${phases(s.phases)}, CPU s/GiB server ${fmt(perGib(s.serverCpuMs), 2)} client ${fmt(perGib(s.clientCpuMs), 2)}`).join("; ")}`,
  );
  const after = [...o.afterwork.entries()].map(
    ([k, as]) => `  after ${k}: ${as.map((a) => `${a.done ? "" : "not done in "}${fmt(a.seconds, 2)} s wall, ${fmt(a.serverCpuMs / 1000, 2)} s server CPU`).join("; ")}`,
  );
  const out = [
    "",
    `bench transfer — ${new Date().toISOString()}, node ${process.version}, ${availableParallelism()} CPUs (clients and servers share them)`,
    describeLoad(o.load[0], o.load[1]),
    `One file of ${fmt(o.sizeMib)} MiB of random bytes, ${o.rounds} round(s); each upload sends new content; each round runs each pair (baseline, modelreg) A B B A, the next B A A B, and takes the mean of each case's two runs. MiB/s and s: medians over rounds; ratios are per round (baseline time / modelreg time in the same round; re-upload: its time / the first upload's), "ratio" their median, "worst" the lowest (re-upload: the highest); peak RSS: the highest over rounds.`,
    `modelreg on ${o.databaseUrl ? "PostgreSQL (a fresh database on --database-url)" : "embedded PGlite (DATA_DIR/pg, in the server process)"}, files under DATA_DIR/blobs; Connect cases: Connect protocol over HTTP/2 (h2c), ${MESSAGE_BYTES / MiB} MiB messages, compression off.`,
    "Baselines down serve as modelreg does: 1 MiB reads, the digest stored at upload sent (etag/repr-digest, or in the first message), no hashing while sending. Baselines up: sha256 while receiving, write, fsync; each upload kept in a new file, as modelreg keeps each blob. Nothing written is deleted before the end.",
    "\"transfer only\": up = end of StageVersionFiles to start of CommitVersionFiles (after the SDK's local sha256 pass; bytes sent and made durable); down = end of ListVersionFiles to the last byte written (before the SDK's hash check, fsync and rename). Re-upload = a second version with the same file (content the workspace holds); \"server calls only\" leaves out its local sha256 pass.",
    "srv peak MB: VmHWM of the server process during the case (reset before it); srv MB before: its RSS when the case started. CPU s/GiB: CPU seconds (median over rounds) per GiB of the file, of the server process and of this process (the client: baseline clients or the SDK); srv faults k: thousands of minor page faults of the server process (memory touched fresh).",
    `Server RSS when idle after start: ${[...o.idleRss].map(([n, mb]) => `${n} ${fmt(mb)} MB`).join(", ")}.`,
    ...(o.missing ? [`modelreg cases not run: ${o.missing}`] : []),
    "",
    table(
      [
        "case",
        "dir",
        ">MiB/s",
        ">s",
        ">ratio",
        ">worst",
        ">per round",
        "target",
        "result",
        ">srv peak MB",
        ">srv MB before",
        `RSS<${TARGET_RSS_MB}MB`,
        ">srv CPU s/GiB",
        ">client CPU s/GiB",
        ">srv faults k",
      ],
      body,
    ),
    "",
    "Per round: MiB/s (re-upload: s) and the ratio of that round:",
    table(["case", "dir", ...Array.from({ length: o.rounds }, (_, i) => `>round ${i + 1}`)], perRoundRows),
    "",
    "Each round (modelreg: phases of the SDK call, from the RPCs it made and its progress reports):",
    ...perRound,
    ...(after.length ? ["Server work after a modelreg upload, until the file's md5 is set (untimed above; the next case starts after it):", ...after] : []),
    "Targets are reported, not enforced: the exit code is 0 unless the benchmark itself crashed.",
    "",
  ];
  process.stdout.write(out.join("\n"));
}
