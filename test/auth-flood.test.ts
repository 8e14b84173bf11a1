// A flood of wrong secrets for a known key id, from many connections, against
// the real server process: key ids are not secret, so anyone can send them.
// The flood must cost the server little (a wrong secret costs what an
// unknown key id costs) and be refused with ResourceExhausted once over its
// budget, while the key's owner keeps working: GetVersion and a signed
// 100 KB download keep answering throughout.
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { createRegistryClient, type RegistryClient, Role } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startServer, tempDir, type ServerProcess } from "./support/server.js";

const CONNECTIONS = 32;
const REQUESTS_PER_CONNECTION = 50;
// The server's default failure budget of one key id (apps/server/src/auth/auth-limits.ts).
const KEY_BURST = 20;
const KEY_REFILL_PER_SECOND = 1;
// Hang-catchers, far above what an answer takes on a slow machine.
const STALL_MS = 10_000;

interface Answer {
  status: number;
  code: string;
  retryInfo: boolean;
}

/** One connection's requests, one after another, each with a fresh wrong secret. */
async function attacker(url: string, keyId: string, version: string): Promise<Answer[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const answers: Answer[] = [];
  try {
    for (let i = 0; i < REQUESTS_PER_CONNECTION; i++) {
      const body = JSON.stringify({ name: version });
      answers.push(
        await new Promise<Answer>((resolve, reject) => {
          const req = http.request(
            `${url}/modelreg.v1.VersionService/GetVersion`,
            {
              method: "POST",
              agent,
              headers: { "content-type": "application/json", authorization: `Bearer ${keyId}.${randomBytes(32).toString("base64url")}`, "content-length": Buffer.byteLength(body) },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on("data", (c: Buffer) => chunks.push(c));
              res.on("end", () => {
                const json = JSON.parse(Buffer.concat(chunks).toString()) as { code?: string; details?: { type: string }[] };
                resolve({ status: res.statusCode!, code: json.code ?? "ok", retryInfo: (json.details ?? []).some((d) => d.type === "google.rpc.RetryInfo") });
              });
              res.on("error", reject);
            },
          );
          req.on("error", reject);
          req.end(body);
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return answers;
}

/** Runs `call`, failing with a clear message when it takes longer than STALL_MS (it is cut off then). */
async function timed(what: string, samples: number[], call: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const t0 = performance.now();
  try {
    await call(AbortSignal.timeout(STALL_MS));
  } catch (err) {
    if (performance.now() - t0 >= STALL_MS) throw new Error(`${what} did not answer within ${STALL_MS} ms during the flood: the server stalled`);
    throw err;
  }
  samples.push(performance.now() - t0);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describeEachDatabase("failed-authentication flood", (backend) => {
  let server: ServerProcess;
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  const dir = tempDir();
  let owner: RegistryClient;
  let keyId: string;
  let version: string;
  let downloadUrl: string;
  const content = randomBytes(100 * 1024);

  beforeAll(async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    server = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
    const admin = createRegistryClient({ baseUrl: server.url });
    const key = await admin.workspaces.createAccessKey({ parent: "workspaces/default", accessKey: { user: "owner", role: Role.EDITOR } });
    keyId = key.accessKey!.keyId;
    owner = createRegistryClient({ baseUrl: server.url, accessKey: key.token });
    await owner.models.createModel({ parent: "workspaces/default", modelId: "target" });
    version = (await owner.versions.createVersion({ parent: "workspaces/default/models/target" })).version!.name;
    const sha256 = createHash("sha256").update(content).digest("hex");
    const staged = await owner.files.stageVersionFiles({ name: version, files: [{ path: "weights.bin", sizeBytes: BigInt(content.length), sha256 }] });
    expect((await fetch(staged.files[0]!.upload!.uploadUrl, { method: "PUT", body: content })).status).toBe(200);
    await owner.files.commitVersionFiles({ name: version });
    downloadUrl = (await owner.files.listVersionFiles({ version: { case: "name", value: version } })).files[0]!.downloadUrl;
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    dir.remove();
  });

  it(`keeps GetVersion and a signed download answering while ${CONNECTIONS} connections send wrong secrets for a known key id, and refuses the flood with ResourceExhausted`, async () => {
    const getVersion = (signal: AbortSignal) =>
      owner.versions.getVersion({ ref: { case: "name", value: version } }, { signal }).then((r) => expect(r.version!.name).toBe(version));
    const download = async (signal: AbortSignal) => {
      const res = await fetch(downloadUrl, { signal });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
    };
    // Without a flood first, for comparison.
    const quietMs: number[] = [];
    for (let i = 0; i < 30; i++) await timed("GetVersion", quietMs, getVersion);

    const getVersionMs: number[] = [];
    const downloadMs: number[] = [];
    let flooding = true;
    const started = performance.now();
    const flood = Promise.all(Array.from({ length: CONNECTIONS }, () => attacker(server.url, keyId, version))).finally(() => (flooding = false));
    // The key's owner, meanwhile, one call after another until the flood ends (bounded).
    const reads = (async () => {
      for (let i = 0; i < 100_000 && flooding; i++) await timed("GetVersion", getVersionMs, getVersion);
    })();
    const downloads = (async () => {
      for (let i = 0; i < 100_000 && flooding; i++) await timed("the 100 KB download", downloadMs, download);
    })();
    const [answers] = await Promise.all([flood, reads, downloads]);
    const seconds = (performance.now() - started) / 1000;

    const all = answers.flat();
    expect(all).toHaveLength(CONNECTIONS * REQUESTS_PER_CONNECTION);
    const unauthenticated = all.filter((a) => a.code === "unauthenticated");
    const exhausted = all.filter((a) => a.code === "resource_exhausted");
    // Every attempt is refused, and beyond the key id's failure budget (plus
    // its refill while the flood lasted) with ResourceExhausted and a retry hint.
    expect(unauthenticated.length + exhausted.length).toBe(all.length);
    expect(unauthenticated.length).toBeLessThanOrEqual(KEY_BURST + Math.ceil(seconds * KEY_REFILL_PER_SECOND));
    expect(exhausted.length).toBeGreaterThan(0);
    expect(exhausted.every((a) => a.status === 429 && a.retryInfo)).toBe(true);

    expect(getVersionMs.length).toBeGreaterThan(0);
    expect(downloadMs.length).toBeGreaterThan(0);
    console.info(
      `[${backend}] flood of ${all.length} wrong secrets over ${CONNECTIONS} connections in ${seconds.toFixed(2)} s: ` +
        `${unauthenticated.length} unauthenticated, ${exhausted.length} resource_exhausted; ` +
        `GetVersion without flood p99=${percentile(quietMs, 99).toFixed(1)} ms, during it n=${getVersionMs.length} p50=${percentile(getVersionMs, 50).toFixed(1)} ms p99=${percentile(getVersionMs, 99).toFixed(1)} ms max=${Math.max(...getVersionMs).toFixed(1)} ms; ` +
        `100 KB download n=${downloadMs.length} p50=${percentile(downloadMs, 50).toFixed(1)} ms p99=${percentile(downloadMs, 99).toFixed(1)} ms max=${Math.max(...downloadMs).toFixed(1)} ms`,
    );
  });
});
