// The server started as `npm start` runs it (the built bundle, a real
// process) on a real S3-protocol server: it serves, and on a supported Node
// older than 22 it prints no AWS SDK warning about Node versions (see
// blobStoreFromEnv). And a server on the file system never loads the SDK.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { expect, it } from "vitest";
import { startTestS3Server } from "./testing/s3-server.js";

const BUNDLE = resolve(import.meta.dirname, "../../dist/main.mjs");

it("starts on an S3 bucket without the AWS SDK's Node-version warning", async () => {
  const s3 = await startTestS3Server();
  const dataDir = await mkdtemp(join(tmpdir(), "modelreg-s3-start-"));
  const child = spawn(process.execPath, [BUNDLE], {
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "",
      PORT: "0",
      DATA_DIR: dataDir,
      BLOB_STORE: `s3://${s3.bucket}/start-test`,
      S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      MODELREG_ADMIN_KEY: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (l) => stderr.push(l));
  const exited = new Promise((r) => child.on("exit", r));
  try {
    const listening = await new Promise<Record<string, unknown>>((res, rej) => {
      createInterface({ input: child.stdout! }).on("line", (l) => {
        if (l.includes("modelreg listening on")) res(JSON.parse(l));
      });
      child.on("exit", (code) => rej(new Error(`the server exited (${code}) before listening:\n${stderr.join("\n")}`)));
    });
    expect(listening.blobStore).toBe("s3");
    // A call that reaches the store: the server's readiness answers through the real bucket.
    const res = await fetch(`${listening.url}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(200);
  } finally {
    child.kill("SIGTERM");
    await exited;
    await s3.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  expect(stderr.join("\n")).not.toMatch(/NodeVersionSupportWarning|require node >=/);
}, 60_000);

// The AWS SDK is loaded only by the S3 store (config.ts imports both when
// BLOB_STORE is s3://): the bundle must keep it that way, in a chunk that
// main.mjs imports dynamically. Bundled into main.mjs itself, the SDK's
// import was hoisted to its top and loaded by every server.
it("loads the AWS SDK only for an S3 store: nothing main.mjs imports at start imports it", async () => {
  const meta = JSON.parse(await readFile(resolve(BUNDLE, "../meta.json"), "utf8")) as {
    outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
  };
  const root = resolve(BUNDLE, "../.."); // meta.json's paths are from apps/server
  const output = (file: string) => meta.outputs[relative(root, file)];
  // Every file of the bundle loaded at start: main.mjs and what it imports statically, transitively.
  const atStart = new Set<string>();
  const visit = (file: string) => {
    if (atStart.has(file)) return;
    atStart.add(file);
    for (const i of output(file)?.imports ?? []) if (i.kind === "import-statement" && !i.external) visit(resolve(root, i.path));
  };
  visit(BUNDLE);
  const loadedAtStart = [...atStart].flatMap((f) => output(f)!.imports.filter((i) => i.kind === "import-statement" && i.external).map((i) => i.path));
  expect(loadedAtStart).toContain("postgres");
  expect(loadedAtStart.filter((p) => p.startsWith("@aws-sdk/"))).toEqual([]);
  // It is there, for the S3 store.
  const dynamic = output(BUNDLE)!.imports.filter((i) => i.kind === "dynamic-import").map((i) => i.path);
  expect(dynamic).toContain("@aws-sdk/client-s3");
});
