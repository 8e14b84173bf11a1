// A `modelreg push` killed with SIGKILL mid-upload, then run again: the
// second run finds the session through staging, asks where it stands, and
// sends only what the server lacks, within 16 MiB of where the first run
// stopped (the server commits a request's bytes every 16 MiB, not per
// 256 MiB chunk). Real server process, the bundled CLI, and a loopback
// proxy that counts the bytes each run sends and holds the first run's
// upload at a known point, so nothing here waits for a time. On PGlite and,
// with DATABASE_URL, PostgreSQL.
import { createHash, randomFillSync } from "node:crypto";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { createRegistryClient, type RegistryClient, VersionState } from "@modelreg/sdk";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startChild } from "./support/child.js";
import { type HoldingProxy, startHoldingProxy } from "./support/holding-proxy.js";
import { REPO_ROOT, type ServerProcess, startServer, tempDir } from "./support/server.js";
import { sleep, until } from "./support/until.js";

const MiB = 1024 * 1024;
const STEP = 16 * MiB;
const SIZE = 96 * MiB;
/** Where the proxy holds the first run: some tens of MiB in, off the 16 MiB grid. */
const HOLD_AT = 40 * MiB;

/** The CLI as its package installs it (the `bin` of apps/cli/package.json, built by this package's test script). */
const cliPackage = JSON.parse(readFileSync(join(REPO_ROOT, "apps/cli/package.json"), "utf8")) as { bin: Record<string, string> };
const BIN = join(REPO_ROOT, "apps/cli", cliPackage.bin.modelreg!);

/** `size` random bytes in a file, written a piece at a time; resolves with their sha256. */
async function randomFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const out = createWriteStream(path);
  const piece = Buffer.alloc(8 * MiB);
  for (let at = 0; at < size; at += piece.length) {
    const bytes = randomFillSync(piece).subarray(0, Math.min(piece.length, size - at));
    hash.update(bytes);
    if (!out.write(Buffer.from(bytes))) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return hash.digest("hex");
}

const cases = [
  { title: "into a named version", model: "named", ref: "named:1.0.0" },
  { title: "without :version (the next run takes up the version the killed run created)", model: "numbered", ref: "numbered" },
];

describeEachDatabase("a push killed and run again", (backend) => {
  let data: ReturnType<typeof tempDir>;
  let work: ReturnType<typeof tempDir>;
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  let server: ServerProcess;
  let proxy: HoldingProxy;
  let client: RegistryClient;

  beforeAll(async () => {
    data = tempDir();
    work = tempDir("modelreg-push-resume-");
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    server = await startServer({ dataDir: data.path, databaseUrl: db?.url });
    proxy = await startHoldingProxy({ host: "127.0.0.1", port: server.port });
    client = createRegistryClient({ baseUrl: server.url, accessKey: process.env.MODELREG_ACCESS_KEY! });
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
    await db?.drop();
    data?.remove();
    work?.remove();
  });

  /** The server's staged uploads (files under DATA_DIR/blobs/tmp named by their session's id; puts in progress end in .put). */
  const stagedIds = () => readdirSync(join(data.path, "blobs", "tmp")).filter((name) => !name.includes("."));

  const push = (file: string, ref: string) =>
    startChild(process.execPath, [BIN, "push", file, ref, "-o", "json"], {
      cwd: work.path,
      env: {
        ...process.env,
        MODELREG_SERVER: proxy.url,
        MODELREG_ACCESS_KEY: process.env.MODELREG_ACCESS_KEY!,
        MODELREG_CONFIG_DIR: join(work.path, "config"),
        MODELREG_CACHE_DIR: join(work.path, "cache"),
      },
    });

  for (const { title, model, ref } of cases) {
    it(`a push ${title}, killed with SIGKILL, continues within 16 MiB of where it stopped; the version is READY with the right sha256`, async () => {
      const file = join(work.path, `${model}.bin`);
      const sha256 = await randomFile(file, SIZE);
      await client.models.createModel({ parent: "workspaces/default", modelId: model });

      // First run: held after HOLD_AT bytes, then killed once the server has committed what it received.
      proxy.reset();
      proxy.holdAfter(HOLD_AT);
      const first = push(file, ref);
      let firstEnded = false;
      void first.exited.then(() => {
        firstEnded = true;
      });
      await until(() => proxy.holding || firstEnded, "the first push to send 40 MiB");
      expect(firstEnded, `the first push ended before it sent 40 MiB:\n${first.lines.join("\n")}`).toBe(false);
      await until(() => stagedIds().length === 1, "the server to stage the upload");
      const upload = `workspaces/default/uploads/${stagedIds()[0]}`;
      // The whole 16 MiB steps of what reached the server are acknowledged while its request is still open.
      const steps = Math.floor(HOLD_AT / STEP) * STEP;
      const offset = async () => Number((await client.files.getUploadSession({ name: upload })).upload!.committedOffset);
      const deadline = Date.now() + 60_000;
      let acknowledged = await offset();
      while (acknowledged < steps) {
        if (Date.now() > deadline) throw new Error(`gave up waiting for the server to acknowledge ${steps} bytes of the held push (${acknowledged} so far)`);
        await sleep(20);
        acknowledged = await offset();
      }
      expect(acknowledged).toBe(steps);
      expect((await first.stop("SIGKILL")).signal).toBe("SIGKILL");
      // What the killed run had sent beyond the hold never reaches the server: where it stopped is what went through.
      proxy.cutAll();
      const killedAt = proxy.up;

      // Second run: the same command, through the proxy, counted from zero.
      proxy.reset();
      const second = push(file, ref);
      const { code } = await second.exited;
      expect(code, second.lines.join("\n")).toBe(0);
      const name = `workspaces/default/models/${model}/versions/1.0.0`;
      expect((await client.versions.getVersion({ ref: { case: "name", value: name } })).version!.state).toBe(VersionState.READY);
      // Sent again: what the server lacked, plus at most the step that was in progress when the first run died.
      const sent = `the second run sent ${proxy.up} bytes (per connection: ${proxy.perConnection.join(", ")}) after the first stopped at ${killedAt}`;
      expect(proxy.up, sent).toBeGreaterThan(SIZE - killedAt);
      expect(proxy.up, sent).toBeLessThanOrEqual(SIZE - killedAt + STEP);

      const [stored] = (await client.files.listVersionFiles({ version: { case: "name", value: name } })).files;
      expect([stored!.path, stored!.sizeBytes, stored!.sha256]).toEqual([`${model}.bin`, BigInt(SIZE), sha256]);
      // One version: the second run made none of its own.
      expect((await client.versions.listVersions({ parent: `workspaces/default/models/${model}` })).versions.map((v) => v.version)).toEqual(["1.0.0"]);
      expect(stagedIds()).toEqual([]);
    });
  }
});
