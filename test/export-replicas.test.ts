// Exports on two server processes that share one PostgreSQL database and
// one blob directory: every export is packed exactly once, and an export
// whose server is killed mid-way (kill -9) is finished by the other after
// the lease runs out, with one archive and the right checksums. Garbage
// collection runs as a job too: once per interval between both servers, and
// it removes what the killed server's unfinished put left behind.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createEmptyPostgres } from "@modelreg/db/testing";
import { createRegistryClient, ExportState, type RegistryClient } from "@modelreg/sdk";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type ServerProcess, tempDir } from "./support/server.js";

const skip = process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)";
const LEASE_SECONDS = 3;
const GC_SECONDS = 2;

describe.skipIf(!process.env.DATABASE_URL)(`exports on two replicas${skip}`, () => {
  let db: Awaited<ReturnType<typeof createEmptyPostgres>>;
  let sql: postgres.Sql;
  const data = tempDir("modelreg-export-replicas-");
  const servers: ServerProcess[] = [];
  let clients: RegistryClient[];
  const start = () => startServer({ databaseUrl: db.url, dataDir: data.path, env: { JOB_LEASE_SECONDS: String(LEASE_SECONDS), GC_INTERVAL_SECONDS: String(GC_SECONDS), GC_GRACE_SECONDS: "5" } });

  beforeAll(async () => {
    db = await createEmptyPostgres();
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    servers.push(await start());
    servers.push(await start());
    clients = servers.map((s) => createRegistryClient({ baseUrl: s.url }));
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.stop("SIGKILL");
    await sql?.end();
    await db?.drop();
    data.remove();
  });

  it("packs 20 exports requested on either server, each exactly once", async () => {
    const [a, b] = clients as [RegistryClient, RegistryClient];
    await a.models.createModel({ parent: "workspaces/default", modelId: "many" });
    const exports = [];
    for (let i = 0; i < 20; i++) {
      const { version } = await a.versions.createVersion({ parent: "workspaces/default/models/many" });
      const file = join(data.path, `f${i}.bin`);
      await writeFile(file, randomBytes(64 * 1024 + i));
      await a.uploadFile(version!.name, file);
      // Requests reach either server; a job is claimed by whichever polls first.
      exports.push(await (i % 2 ? b : a).startExport(version!.name, "tar"));
    }
    const done = await Promise.all(exports.map((e) => a.waitForExport(e.name, { timeoutMs: 60_000 })));
    for (const e of done) {
      expect(e.state).toBe(ExportState.SUCCEEDED);
      expect(e.attempts).toBe(1);
    }
    expect(new Set(done.map((e) => e.sha256)).size).toBe(20);
    const jobs = await sql<{ attempts: number; state: number }[]>`SELECT attempts, state FROM jobs WHERE kind = 'export'`;
    expect(jobs).toHaveLength(20);
    expect(jobs.every((j) => j.attempts === 1 && j.state === 3)).toBe(true);
  }, 180_000);

  it("finishes an export on the other server after kill -9 of the one packing it: one archive, right checksums", async () => {
    const [a] = clients as [RegistryClient];
    await a.models.createModel({ parent: "workspaces/default", modelId: "big" });
    const { version } = await a.versions.createVersion({ parent: "workspaces/default/models/big" });
    const file = join(data.path, "big.bin");
    // Random bytes gzip slowly (tens of MB/s): the export runs for seconds.
    await writeFile(file, randomBytes(96 * 1024 * 1024));
    await a.uploadFile(version!.name, file);
    const before: string[] = await readdir(join(data.path, "blobs", "tmp")).catch(() => []);

    const created = await a.startExport(version!.name, "tar.gz");
    // Which server took it: its lease owner starts with its pid.
    let owner = "";
    for (let i = 0; i < 400 && !owner; i++) {
      const [job] = await sql<{ owner: string; state: number }[]>`SELECT lease_owner AS owner, state FROM jobs WHERE payload->>'exportId' = ${created.uid}`;
      const { export: cur } = await a.exports.getExport({ name: created.name });
      if (job?.state === 2 && cur!.bytesDone > 0n) owner = job.owner;
      else await new Promise((r) => setTimeout(r, 25));
    }
    expect(owner, "the export never started").not.toBe("");
    const victim = servers.find((s) => owner.startsWith(`${s.child.pid}-`))!;
    expect(victim).toBeDefined();
    expect((await victim.stop("SIGKILL")).signal).toBe("SIGKILL");
    const survivor = servers.find((s) => s !== victim)!;
    const client = createRegistryClient({ baseUrl: survivor.url });

    const done = await client.waitForExport(created.name, { timeoutMs: 120_000 });
    expect(done.state).toBe(ExportState.SUCCEEDED);
    expect(done.attempts).toBe(2);
    const target = join(data.path, done.fileName);
    await client.downloadExport(done, target);
    expect(execFileSync("md5sum", [target], { encoding: "utf8" }).split(" ")[0]).toBe(done.md5);
    expect(execFileSync("sha256sum", [target], { encoding: "utf8" }).split(" ")[0]).toBe(done.sha256);
    expect(execFileSync("tar", ["-tzf", target], { encoding: "utf8" }).trim().split("\n")).toEqual(["modelreg.json", "big.bin"]);
    // One archive: one stored blob of its size, the one the export names.
    const archives = await sql<{ sha256: string }[]>`SELECT sha256 FROM blobs WHERE size = ${Number(done.sizeBytes)}`;
    expect(archives.map((h) => h.sha256)).toEqual([done.sha256]);
    // The dead server's partial archive is only a temp file, which garbage collection removes.
    servers.splice(servers.indexOf(victim), 1);
    const leftovers = async () => (await readdir(join(data.path, "blobs", "tmp"))).filter((n) => n.endsWith(".put") && !before.includes(n));
    for (let i = 0; i < 100 && (await leftovers()).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await leftovers()).toEqual([]);
    // The archive outlives every collection: an export refers to it.
    expect((await fetch(new URL(done.downloadUrl, survivor.url), { method: "HEAD" })).status).toBe(200);

    // Collections ran as jobs, one at a time, about one per interval between both servers.
    const gcs = await sql<{ state: number; created: Date }[]>`SELECT state, create_time AS created FROM jobs WHERE kind = 'gc' ORDER BY create_time`;
    expect(gcs.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < gcs.length; i++) expect(gcs[i]!.created.getTime() - gcs[i - 1]!.created.getTime()).toBeGreaterThanOrEqual(GC_SECONDS * 1000 - 50);
  }, 240_000);
});
