// The SDK's browser entry, built to dist/ as it is published, in a real
// headless Chromium (Debian's chromium package, driven by playwright-core): a
// page served from one loopback origin calls the real server on another,
// which lists the page's origin in CORS_ORIGINS. In the page: models listed
// (Connect and gRPC-Web), a Blob made there uploaded in chunks and downloaded
// with its sha256 checked by Web Crypto, a range read, the byte routes'
// headers readable, an export's archive fetched and checked; a tampered
// download refused by the check; an upload and a download resumed after a
// broken connection. A page on an origin the server does not list is refused
// by the browser, RPCs and byte routes alike.
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import { createRegistryClient } from "@modelreg/sdk";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { npmEnv } from "./support/npm.js";
import { REPO_ROOT, startServer, type ServerProcess, tempDir } from "./support/server.js";
import { E2E_ADMIN_TOKEN } from "./support/setup.js";

type Sdk = typeof import("@modelreg/sdk/browser");
/** The page's view of the bundle: the SDK's browser entry as `modelreg`. */
type PageGlobals = { modelreg: Sdk };

const CHROMIUM = process.env.MODELREG_CHROMIUM ?? "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  process.stderr.write(`browser.test.ts skipped: no Chromium at ${CHROMIUM}; install Debian's chromium package (apt-get install chromium; .ci/run does) or set MODELREG_CHROMIUM\n`);
}

const run = promisify(execFile);

/**
 * The browser entry bundled as a page's bundler would, from what is
 * published: @modelreg/proto and @modelreg/sdk built to dist/ by their own
 * `build` scripts (proto first: the SDK's build reads its declarations), then
 * `@modelreg/sdk` resolved without the workspace's source condition, so the
 * `browser` export gives dist/browser.js. The bundle's inputs say so.
 */
async function bundleSdk(): Promise<string> {
  for (const dir of ["packages/proto", "packages/sdk"]) await run("npm", ["run", "build", "--silent"], { cwd: join(REPO_ROOT, dir), env: npmEnv() });
  const result = await build({
    stdin: { contents: 'import * as sdk from "@modelreg/sdk"; globalThis.modelreg = sdk;', resolveDir: import.meta.dirname, loader: "js" },
    absWorkingDir: REPO_ROOT,
    bundle: true,
    write: false,
    metafile: true,
    platform: "browser",
    format: "iife",
    target: "chrome120",
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs).toContain("packages/sdk/dist/browser.js");
  expect(inputs.filter((i) => i.startsWith("packages/proto/dist/")).length).toBeGreaterThan(0);
  expect(inputs.filter((i) => /^packages\/[^/]+\/src\//.test(i) || i.startsWith("node:") || i === "packages/sdk/dist/index.js")).toEqual([]);
  return result.outputFiles[0]!.text;
}

/** A loopback server for the page and the bundle: an origin of its own. */
async function servePage(bundle: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === "/sdk.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><html><head><script src="/sdk.js"></script></head><body>modelreg</body></html>');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe.skipIf(!HAS_CHROMIUM)(HAS_CHROMIUM ? "the SDK in a browser page" : `the SDK in a browser page (skipped: no Chromium at ${CHROMIUM})`, () => {
  let server: ServerProcess;
  let allowed: Awaited<ReturnType<typeof servePage>>;
  let other: Awaited<ReturnType<typeof servePage>>;
  let browser: Browser;
  /** Console messages of the pages (Chromium reports CORS refusals there). */
  const consoleLines: string[] = [];

  beforeAll(async () => {
    const bundle = await bundleSdk();
    allowed = await servePage(bundle);
    other = await servePage(bundle);
    server = await startServer({ env: { CORS_ORIGINS: allowed.origin } });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await allowed?.close();
    await other?.close();
  });

  async function open(origin: string): Promise<Page> {
    const page = await browser.newPage();
    page.on("console", (m) => consoleLines.push(m.text()));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => "modelreg" in globalThis);
    return page;
  }

  it("lists models across origins, over Connect and gRPC-Web", async () => {
    const node = createRegistryClient({ baseUrl: server.url });
    await node.models.createModel({ parent: "workspaces/default", modelId: "seen-from-a-page", model: { description: "made in Node" } });
    const page = await open(allowed.origin);
    const listed = await page.evaluate(
      async ({ baseUrl, accessKey }) => {
        const { modelreg } = globalThis as unknown as PageGlobals;
        const out: Record<string, string[]> = {};
        for (const protocol of ["connect", "grpc-web"] as const) {
          const client = modelreg.createRegistryClient({ baseUrl, accessKey, protocol });
          out[protocol] = [];
          for await (const m of client.listAllModels()) out[protocol].push(`${m.name} ${m.description}`);
        }
        return out;
      },
      { baseUrl: server.url, accessKey: E2E_ADMIN_TOKEN },
    );
    expect(listed.connect).toContain("workspaces/default/models/seen-from-a-page made in Node");
    expect(listed["grpc-web"]).toEqual(listed.connect);
    await page.close();
  });

  it("uploads a Blob made in the page and downloads it with its sha256 checked", async () => {
    const page = await open(allowed.origin);
    const result = await page.evaluate(
      async ({ baseUrl, accessKey }) => {
        const { modelreg } = globalThis as unknown as PageGlobals;
        const client = modelreg.createRegistryClient({ baseUrl, accessKey });
        await client.models.createModel({ parent: "workspaces/default", modelId: "from-a-page", model: {} });
        const { version } = await client.versions.createVersion({ parent: client.modelName("from-a-page"), version: { description: "uploaded by a page" } });
        // 3 MiB and a bit, sent in 1 MiB PUTs (Content-Range), so the session goes on from its committed offset.
        const bytes = new Uint8Array((3 << 20) + 12345);
        for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(bytes.length, i + 65536)));
        const sha256 = await modelreg.sha256Of(bytes);
        const progress: number[] = [];
        const ready = await client.uploadBlob(version!.name, new Blob([bytes]), {
          path: "weights/model.bin",
          chunkBytes: 1 << 20,
          onProgress: (p) => progress.push(p.bytesDone),
        });
        const down = await client.downloadBlob(version!.name, "weights/model.bin");
        const back = new Uint8Array(await down.blob.arrayBuffer());
        const same = back.length === bytes.length && back.every((b, i) => b === bytes[i]);
        const range = await client.downloadBytes(`from-a-page:${version!.version}`, "weights/model.bin", { offset: 1000, length: 5000 });
        const rangeSame = range.length === 5000 && range.every((b, i) => b === bytes[1000 + i]);
        // The byte routes' headers are readable across origins (Access-Control-Expose-Headers).
        const [file] = (await client.files.listVersionFiles({ version: { case: "name", value: version!.name } })).files;
        const raw = await fetch(new URL(file!.downloadUrl, baseUrl), { headers: { range: "bytes=0-99" } });
        await raw.arrayBuffer();
        const headers = ["content-range", "etag", "repr-digest", "accept-ranges", "content-disposition"].map((h) => `${h}: ${raw.headers.get(h)}`);
        return {
          state: modelreg.VersionState[ready.state],
          sha256,
          downloaded: { sha256: down.sha256, size: down.sizeBytes, same },
          rangeSame,
          progress,
          status: raw.status,
          headers,
          abc: await modelreg.sha256Of(new TextEncoder().encode("abc")),
          name: version!.name,
        };
      },
      { baseUrl: server.url, accessKey: E2E_ADMIN_TOKEN },
    );
    expect(result.state).toBe("READY");
    expect(result.downloaded).toEqual({ sha256: result.sha256, size: (3 << 20) + 12345, same: true });
    expect(result.rangeSame).toBe(true);
    expect(result.progress.at(-1)).toBe((3 << 20) + 12345);
    expect(result.progress.length).toBeGreaterThanOrEqual(5);
    expect(result.abc).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(result.status).toBe(206);
    expect(result.headers).toEqual([
      `content-range: bytes 0-99/${(3 << 20) + 12345}`,
      `etag: "${result.sha256}"`,
      `repr-digest: sha-256=:${Buffer.from(result.sha256, "hex").toString("base64")}:`,
      "accept-ranges: bytes",
      "content-disposition: attachment; filename*=UTF-8''model.bin",
    ]);
    // What Web Crypto computed is what the server stored, and what Node reads back.
    const node = createRegistryClient({ baseUrl: server.url });
    const file = (await node.files.listVersionFiles({ version: { case: "name", value: result.name } })).files[0]!;
    expect(file.sha256).toBe(result.sha256);
    await page.close();
  });

  it("exports a version and fetches its archive into the page, checked", async () => {
    const page = await open(allowed.origin);
    const result = await page.evaluate(
      async ({ baseUrl, accessKey }) => {
        const { modelreg } = globalThis as unknown as PageGlobals;
        const client = modelreg.createRegistryClient({ baseUrl, accessKey });
        await client.models.createModel({ parent: "workspaces/default", modelId: "exported-from-a-page", model: {} });
        const { version } = await client.versions.createVersion({ parent: client.modelName("exported-from-a-page"), version: {} });
        await client.uploadBlob(version!.name, new Blob(["weights to pack"]), { path: "w.txt" });
        const started = await client.startExport(`exported-from-a-page:${version!.version}`, "tar.gz");
        const done = await client.waitForExport(started, { pollMs: 50, timeoutMs: 60_000 });
        const archive = await client.downloadExportBlob(done);
        // The archive is what it says: gzip, opening with the tar's first entry, modelreg.json.
        const tar = new Uint8Array(await new Response(archive.blob.stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
        return {
          state: modelreg.ExportState[done.state],
          fileName: archive.fileName,
          type: archive.blob.type,
          size: archive.sizeBytes === Number(done.sizeBytes),
          sha256: archive.sha256 === done.sha256 && (await modelreg.sha256Of(new Uint8Array(await archive.blob.arrayBuffer()))) === done.sha256,
          firstEntry: new TextDecoder().decode(tar.subarray(0, 100)).replace(/\0.*$/s, ""),
        };
      },
      { baseUrl: server.url, accessKey: E2E_ADMIN_TOKEN },
    );
    expect(result).toEqual({ state: "SUCCEEDED", fileName: expect.stringMatching(/\.tar\.gz$/), type: "application/gzip", size: true, sha256: true, firstEntry: "modelreg.json" });
    await page.close();
  });

  it("refuses a download whose bytes do not hash to the file's sha256", async () => {
    const page = await open(allowed.origin);
    const refused = await page.evaluate(
      async ({ baseUrl, accessKey }) => {
        const { modelreg } = globalThis as unknown as PageGlobals;
        // One byte of every download flipped on its way into the page.
        const tampering: typeof fetch = async (input, init) => {
          const res = await fetch(input, init);
          if (!String(input).includes("/v1/blobs/")) return res;
          const body = new Uint8Array(await res.arrayBuffer());
          if (body.length > 0) body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
          return new Response(body, { status: res.status, headers: res.headers });
        };
        const client = modelreg.createRegistryClient({ baseUrl, accessKey, fetch: tampering });
        await client.models.createModel({ parent: "workspaces/default", modelId: "tampered", model: {} });
        const { version } = await client.versions.createVersion({ parent: client.modelName("tampered"), version: {} });
        await client.uploadBlob(version!.name, new Blob(["the weights as the server keeps them"]), { path: "w.txt" });
        try {
          const got = await client.downloadBlob(version!.name, "w.txt");
          return { accepted: await got.blob.text() };
        } catch (err) {
          const e = modelreg.ConnectError.from(err);
          return { code: modelreg.Code[e.code], message: e.rawMessage };
        }
      },
      { baseUrl: server.url, accessKey: E2E_ADMIN_TOKEN },
    );
    expect(refused).toEqual({ code: "DataLoss", message: expect.stringMatching(/^w\.txt: downloaded bytes hash to [0-9a-f]{64}, expected [0-9a-f]{64}; the download was refused$/) });
    await page.close();
  });

  it("resumes an upload whose answer was lost and a download whose connection broke", async () => {
    const page = await open(allowed.origin);
    const result = await page.evaluate(
      async ({ baseUrl, accessKey }) => {
        const { modelreg } = globalThis as unknown as PageGlobals;
        const broken = { puts: 0, gets: 0 };
        const ranges: (string | null)[] = [];
        // The second PUT reaches the server, but its answer never reaches the page; the first GET breaks after 100 KiB.
        const flaky: typeof fetch = async (input, init) => {
          const url = String(input);
          if (init?.method === "PUT" && url.includes("/v1/uploads/") && ++broken.puts === 2) {
            await (await fetch(input, init)).arrayBuffer();
            throw new TypeError("Failed to fetch");
          }
          const res = await fetch(input, init);
          if (url.includes("/v1/blobs/")) ranges.push(new Headers(init?.headers).get("range"));
          if (!url.includes("/v1/blobs/") || ++broken.gets !== 1) return res;
          const reader = res.body!.getReader();
          let passed = 0;
          const body = new ReadableStream<Uint8Array>({
            // Exactly 100 KiB pass, however the network cut the body into chunks; then the connection breaks.
            async pull(controller) {
              const { done, value } = await reader.read();
              const room = (100 << 10) - passed;
              if (done || room <= 0) {
                void reader.cancel();
                controller.error(new TypeError("network error"));
                return;
              }
              const part = value.length > room ? value.subarray(0, room) : value;
              passed += part.length;
              controller.enqueue(part);
            },
          });
          return new Response(body, { status: res.status, headers: res.headers });
        };
        const client = modelreg.createRegistryClient({ baseUrl, accessKey, fetch: flaky });
        await client.models.createModel({ parent: "workspaces/default", modelId: "flaky-network", model: {} });
        const { version } = await client.versions.createVersion({ parent: client.modelName("flaky-network"), version: {} });
        const bytes = new Uint8Array((2 << 20) + 777);
        for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(bytes.length, i + 65536)));
        const retries: string[] = [];
        const retry = { baseDelayMs: 10, onRetry: (r: { error: Error }) => retries.push(r.error.message) };
        await client.uploadBlob(version!.name, new Blob([bytes]), { path: "w.bin", chunkBytes: 1 << 20, retry });
        const down = await client.downloadBlob(version!.name, "w.bin", { retry });
        const back = new Uint8Array(await down.blob.arrayBuffer());
        return { broken, ranges, retries, same: back.length === bytes.length && back.every((b, i) => b === bytes[i]), sha256: down.sha256, expected: await modelreg.sha256Of(bytes) };
      },
      { baseUrl: server.url, accessKey: E2E_ADMIN_TOKEN },
    );
    expect(result.broken).toEqual({ puts: 3, gets: 2 });
    // The download went on from where the connection broke, not from the start.
    expect(result.ranges[0]).toBeNull();
    expect(result.ranges[1]).toBe(`bytes=${100 << 10}-2097928`);
    expect(result.retries).toHaveLength(2);
    expect(result.retries[0]).toMatch(/^\[unavailable\] the request to http:\/\/127\.0\.0\.1:\d+\/v1\/uploads\/\S+ failed with no answer \(Failed to fetch\)/);
    expect(result.retries[1]).toMatch(/^\[unavailable\] the request to http:\/\/127\.0\.0\.1:\d+\/v1\/blobs\/\S+ failed with no answer \(network error\)/);
    expect(result.same).toBe(true);
    expect(result.sha256).toBe(result.expected);
    await page.close();
  });

  it("is refused by the browser on an origin the server does not list, RPCs and byte routes alike", async () => {
    // A file with a signed download URL, made in Node.
    const dir = tempDir();
    onTestFinished(() => dir.remove());
    writeFileSync(join(dir.path, "w.bin"), "bytes no other origin may read");
    const node = createRegistryClient({ baseUrl: server.url });
    await node.models.createModel({ parent: "workspaces/default", modelId: "not-for-other-pages", model: {} });
    const { version } = await node.versions.createVersion({ parent: node.modelName("not-for-other-pages"), version: {} });
    await node.uploadFile(version!.name, join(dir.path, "w.bin"));
    const downloadUrl = new URL((await node.files.listVersionFiles({ version: { case: "name", value: version!.name } })).files[0]!.downloadUrl, server.url).href;
    const page = await open(other.origin);
    const before = consoleLines.length;
    const outcome = await page.evaluate(
      async ({ baseUrl, accessKey, downloadUrl }) => {
        const { modelreg } = globalThis as unknown as PageGlobals;
        const client = modelreg.createRegistryClient({ baseUrl, accessKey });
        const rpc = await client.models.listModels({ parent: "workspaces/default" }).then(
          () => "answered",
          (err: unknown) => `${modelreg.Code[modelreg.ConnectError.from(err).code]}: ${modelreg.ConnectError.from(err).rawMessage}`,
        );
        // A GET the page may send without a preflight: the server answers it, the browser withholds the answer.
        const plain = await fetch(downloadUrl).then(
          () => "answered",
          (err: unknown) => String(err),
        );
        return { rpc, plain };
      },
      { baseUrl: server.url, accessKey: E2E_ADMIN_TOKEN, downloadUrl },
    );
    expect(outcome.rpc).toBe(
      `Unavailable: no answer from ${server.url} (Failed to fetch): the network, or the server does not allow this page's origin ${other.origin} (see its CORS_ORIGINS)`,
    );
    expect(outcome.plain).toBe("TypeError: Failed to fetch");
    // Chromium says why on the page's console (the page's script is not told).
    await expect.poll(() => consoleLines.slice(before).some((l) => l.includes(`from origin '${other.origin}' has been blocked by CORS policy`)), { timeout: 30_000 }).toBe(true);
    await page.close();
  });
});
