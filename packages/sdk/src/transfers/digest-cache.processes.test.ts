// The digest cache shared by processes at once: several real Node processes
// (the SDK's hash.ts from source, through tsx) start together on one cache
// directory and hash many different small files each, four at a time,
// round after round, while also asking for files the others hash (some
// files every process hashes). Each checks every digest it gets against
// the true one. Once all have exited, every file's digest must be in the
// cache: a lookup answers from it, with the right value, without reading
// the file.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cachedDigest } from "./digest-cache.js";

const PROCESSES = 3;
const ROUNDS = 12;
const FILES_PER_ROUND = 8;
const SHARED_FILES = 6;

interface Manifest {
  /** own[process][round]: the files that process hashes in that round. */
  own: string[][][];
  shared: string[];
  sha256: Record<string, string>;
}

// The child: waits for "go" on stdin, then hashes its rounds through
// digestFile (the cache), checking each answer; exits 1 on a wrong digest.
const CHILD = `
import { readFileSync } from "node:fs";
const [hashModule, manifestPath, id] = process.argv.slice(2);
const { digestFile } = await import(hashModule);
const m = JSON.parse(readFileSync(manifestPath, "utf8"));
const me = Number(id);
const check = async (path) => {
  const { sha256 } = await digestFile(path);
  if (sha256 !== m.sha256[path]) throw new Error(\`wrong digest for \${path}: \${sha256}\`);
};
const eachFour = async (paths) => {
  let next = 0;
  await Promise.all([0, 1, 2, 3].map(async () => { while (next < paths.length) await check(paths[next++]); }));
};
process.stdout.write("ready\\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
for (let round = 0; round < m.own[me].length; round++) {
  // Its own files, a shared one, and another process's files of the round before.
  const others = round === 0 ? [] : m.own[(me + 1) % m.own.length][round - 1];
  await eachFour([...m.own[me][round], m.shared[round % m.shared.length], ...others]);
}
process.stdin.destroy();
`;

let dir = "";
let manifest: Manifest;
const saved = process.env.MODELREG_CACHE_DIR;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelreg-digest-cache-processes-"));
  process.env.MODELREG_CACHE_DIR = join(dir, "cache");
  manifest = { own: [], shared: [], sha256: {} };
  const make = async (name: string) => {
    const path = join(dir, name);
    const data = randomBytes(1024 + Math.floor(Math.random() * 64 * 1024));
    await writeFile(path, data);
    manifest.sha256[path] = createHash("sha256").update(data).digest("hex");
    return path;
  };
  for (let s = 0; s < SHARED_FILES; s++) manifest.shared.push(await make(`shared-${s}.bin`));
  for (let p = 0; p < PROCESSES; p++) {
    const rounds: string[][] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const files: string[] = [];
      for (let f = 0; f < FILES_PER_ROUND; f++) files.push(await make(`p${p}-r${r}-f${f}.bin`));
      rounds.push(files);
    }
    manifest.own.push(rounds);
  }
  await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
  await writeFile(join(dir, "child.mjs"), CHILD);
});
afterAll(async () => {
  if (saved === undefined) delete process.env.MODELREG_CACHE_DIR;
  else process.env.MODELREG_CACHE_DIR = saved;
  await rm(dir, { recursive: true, force: true });
});

function startChild(id: number) {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const hashModule = pathToFileURL(join(import.meta.dirname, "hash.ts")).href;
  const argv = ["--conditions=@modelreg/source", "--import", tsx, join(dir, "child.mjs"), hashModule, join(dir, "manifest.json"), String(id)];
  const child = spawn(process.execPath, argv, { env: { ...process.env, MODELREG_CACHE_DIR: join(dir, "cache") }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const ready = new Promise<void>((resolve) =>
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes("ready\n")) resolve();
    }),
  );
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, ready: Promise.race([ready, exited]), exited, stderr: () => stderr };
}

it("keeps every digest that processes hashing at once computed, and never answers a wrong one", async () => {
  const children = Array.from({ length: PROCESSES }, (_, i) => startChild(i));
  // All started and waiting: then go together.
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.write("go\n");
  const codes = await Promise.all(children.map((c) => c.exited));
  expect(codes, children.map((c) => c.stderr()).join("\n")).toEqual(children.map(() => 0));

  const all = [...manifest.shared, ...manifest.own.flat(2)];
  const missing: string[] = [];
  for (const path of all) {
    const hit = await cachedDigest(path);
    if (!hit) missing.push(path);
    else expect(hit.sha256).toBe(manifest.sha256[path]);
  }
  expect(missing.length, `not in the cache: ${missing.length} of ${all.length}`).toBe(0);
  // No temp file left behind.
  expect((await readdir(join(dir, "cache"), { recursive: true })).filter((f) => f.endsWith(".tmp"))).toEqual([]);
}, 120_000);
