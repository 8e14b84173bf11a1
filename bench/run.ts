// Benchmark runner: `npm run bench -- <name> [options]`. Each benchmark
// measures its own baseline in the same run and prints a table; it exits 0
// whether or not targets are met (a benchmark is not a test), 1 on a crash.
export {};

const BENCHMARKS: Record<string, { about: string; load: () => Promise<{ run(args: string[]): Promise<void> }> }> = {
  export: {
    about: "export a 1 GiB version as tar vs the machine limit (slowest of md5, sha256 and a buffered write of the same bytes on the same disk) [--size-mib N] [--files N] [--rounds N] [--dir DIR] [--database-url URL] [--cpu-prof DIR]",
    load: () => import("./export/index.js"),
  },
  rpc: {
    about: "GetVersion/CreateVersion over Connect and gRPC (HTTP/2) vs a bare Connect-ES + postgres.js server doing the same statements [--seconds N] [--rounds N] [--creates N] [--cpu-prof DIR]",
    load: () => import("./rpc/index.js"),
  },
  search: {
    about: "1,000,000 versions across 1,000 models in PostgreSQL: GetVersion, filtered and metric-ordered pages 1 and 50, each beside the same SQL replayed raw [--versions N] [--models M] [--samples K] [--rounds N] [--database-url URL] [--explain]",
    load: () => import("./search/index.js"),
  },
  tasks: {
    about: "tasks on PostgreSQL (DATABASE_URL): claim latency, 200 reporting workers, 500 WatchTask streams, a killed worker's lease, 1 GiB of logs, server RSS; vs raw postgres.js [--only PHASES] [--database-url URL] [--cpu-prof DIR] (more in bench/tasks/index.ts)",
    load: () => import("./tasks/index.js"),
  },
  transfer: {
    about: "a 1 GiB file up and down: SDK plain HTTP and streaming RPCs vs bare node:http and Connect-ES servers [--size-mib N] [--rounds N] [--dir DIR] [--database-url URL] [--cpu-prof DIR]",
    load: () => import("./transfer/index.js"),
  },
};

const [name, ...args] = process.argv.slice(2);
const bench = name ? BENCHMARKS[name] : undefined;
if (!bench) {
  if (name) process.stderr.write(`unknown benchmark "${name}"\n\n`);
  process.stderr.write("usage: npm run bench -- <name> [options]\n\navailable benchmarks:\n");
  for (const [n, b] of Object.entries(BENCHMARKS)) process.stderr.write(`  ${n.padEnd(8)} ${b.about}\n`);
  process.exit(2);
}
try {
  await (await bench.load()).run(args);
} catch (err) {
  process.stderr.write(`bench ${name} crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
