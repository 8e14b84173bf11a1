// Model files end to end, against real server processes: kill -9 in the
// middle of an upload, restart, resume and verify (both databases); and a
// sparse file larger than 2 GiB up and down through the SDK.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { closeSync, createReadStream, ftruncateSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import * as http from "node:http";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createRegistryClient, UploadState, VersionState } from "@modelreg/sdk";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { REPO_ROOT, startServer, tempDir } from "./support/server.js";

const MiB = 1024 * 1024;

function put(url: string, body: Buffer, start: number, total: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "PUT", headers: { "content-range": `bytes ${start}-${start + body.length - 1}/${total}` } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function sha256OfFile(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) h.update(chunk as Buffer);
  return h.digest("hex");
}

describeEachDatabase("artifacts across a crash", (backend) => {
  const dir = tempDir();
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  afterAll(async () => {
    await db?.drop();
    dir.remove();
  });

  it("keeps acknowledged bytes across kill -9 mid-upload; the upload resumes and the version becomes READY with the right bytes", async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    const data = Buffer.alloc(24 * MiB);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i * 2654435761 >>> 0, i);
    const sha256 = createHash("sha256").update(data).digest("hex");

    const first = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
    const client = createRegistryClient({ baseUrl: first.url });
    await client.models.createModel({ parent: "workspaces/default", modelId: "crashy" });
    const { version } = await client.versions.createVersion({ parent: "workspaces/default/models/crashy" });
    const staged = await client.files.stageVersionFiles({ name: version!.name, files: [{ path: "weights.bin", sizeBytes: BigInt(data.length), sha256 }] });
    const upload = staged.files[0]!.upload!;
    expect((await put(upload.uploadUrl, data.subarray(0, 8 * MiB), 0, data.length)).status).toBe(200);

    // The second chunk is on its way when the server dies.
    const inFlight = new Promise<void>((resolve) => {
      const req = http.request(upload.uploadUrl, { method: "PUT", headers: { "content-range": `bytes ${8 * MiB}-${16 * MiB - 1}/${data.length}` } });
      req.on("error", () => resolve());
      req.on("response", () => resolve());
      req.write(data.subarray(8 * MiB, 12 * MiB), () => void first.stop("SIGKILL"));
    });
    expect((await first.stop("SIGKILL")).signal).toBe("SIGKILL");
    await inFlight;

    const second = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
    try {
      const again = createRegistryClient({ baseUrl: second.url });
      expect((await again.versions.getVersion({ ref: { case: "name", value: version!.name } })).version!.state).toBe(VersionState.PENDING);
      const session = (await again.files.getUploadSession({ name: upload.name })).upload!;
      const offset = Number(session.committedOffset);
      // At least what was acknowledged; at most what was sent.
      expect(offset).toBeGreaterThanOrEqual(8 * MiB);
      expect(offset).toBeLessThanOrEqual(12 * MiB);
      for (let at = offset; at < data.length; at += 8 * MiB) {
        const end = Math.min(data.length, at + 8 * MiB);
        const r = await put(session.uploadUrl, data.subarray(at, end), at, data.length);
        expect(r.status, r.body).toBe(200);
      }
      expect((await again.files.getUploadSession({ name: upload.name })).upload!.state).toBe(UploadState.COMPLETE);
      const ready = (await again.files.commitVersionFiles({ name: version!.name })).version!;
      expect([ready.state, ready.totalSizeBytes]).toEqual([VersionState.READY, BigInt(data.length)]);
      const target = join(dir.path, "downloaded.bin");
      const got = await again.downloadToFile(version!.name, "weights.bin", target);
      expect(got.sha256).toBe(sha256);
      expect(await sha256OfFile(target)).toBe(sha256);
    } finally {
      await second.stop();
    }
  });
});

it("moves a sparse file larger than 2 GiB up and down through the SDK, byte for byte", async () => {
  const dir = tempDir();
  const server = await startServer();
  try {
    const source = join(dir.path, "big.ckpt");
    const fd = openSync(source, "w");
    const size = 2 * 1024 * MiB + 12345;
    ftruncateSync(fd, size);
    // A few marks, so offsets matter: at the start, past 2^31 and at the very end.
    writeSync(fd, Buffer.from("start"), 0, 5, 0);
    writeSync(fd, Buffer.from("past 2^31"), 0, 9, 2 ** 31 + 7);
    writeSync(fd, Buffer.from("end"), 0, 3, size - 3);
    closeSync(fd);
    const sha256 = await sha256OfFile(source);

    const client = createRegistryClient({ baseUrl: server.url });
    await client.models.createModel({ parent: "workspaces/default", modelId: "huge" });
    const { version } = await client.versions.createVersion({ parent: "workspaces/default/models/huge" });
    const ready = await client.uploadFile(version!.name, source);
    expect([ready.state, ready.totalSizeBytes, ready.fileCount]).toEqual([VersionState.READY, BigInt(size), 1n]);
    const back = join(dir.path, "back.ckpt");
    const got = await client.downloadToFile(version!.name, "big.ckpt", back);
    expect([got.sha256, got.sizeBytes]).toEqual([sha256, size]);
    expect(await sha256OfFile(back)).toBe(sha256);
    const tail = await client.downloadBytes(version!.name, "big.ckpt", { offset: 2 ** 31 + 7, length: 9 });
    expect(Buffer.from(tail).toString()).toBe("past 2^31");
  } finally {
    await server.stop();
    dir.remove();
  }
}, 240_000);

it("runs the README's model-files curl block as written (port aside)", async () => {
  const dir = tempDir();
  const dataDir = join(dir.path, "data");
  // The server makes its own admin key in data/admin.key, as after `npm start`.
  const server = await startServer({ dataDir, env: { MODELREG_ADMIN_KEY: "" } });
  try {
    const key = readFileSync(join(dataDir, "admin.key"), "utf8").trim();
    const client = createRegistryClient({ baseUrl: server.url, accessKey: key });
    await client.models.createModel({ parent: "workspaces/default", modelId: "fraud-detector" });
    await client.versions.createVersion({ parent: "workspaces/default/models/fraud-detector", versionId: "2.0.0" });
    const weights = join(dir.path, "weights.bin");
    writeFileSync(weights, Buffer.from("0123456789".repeat(20)));
    await client.uploadFile("workspaces/default/models/fraud-detector/versions/2.0.0", weights);

    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Model files"));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!.replaceAll("127.0.0.1:8080", `127.0.0.1:${server.port}`);
    // No start-up files (a CI shell's BASH_ENV or bashrc may not survive `set -u`).
    const env = { ...process.env };
    delete env.BASH_ENV;
    delete env.ENV;
    const r = spawnSync("bash", ["--noprofile", "--norc", "-euo", "pipefail", "-c", block], { cwd: dir.path, encoding: "utf8", env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("0123456789012345");
    expect(r.stdout.split("\n")[1]).toMatch(/^00000010: /);
  } finally {
    await server.stop();
    dir.remove();
  }
});
