// The server started as `npm start` runs it (the built bundle, a real
// process) on a real S3-protocol server: it serves, and on a supported Node
// older than 22 it prints no AWS SDK warning about Node versions (see
// blobStoreFromEnv).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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
