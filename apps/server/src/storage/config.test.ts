import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config.js";
import { blobStoreConfigFromEnv, blobStoreFromEnv } from "./config.js";
import { startTestS3Server } from "./testing/s3-server.js";

const keys = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret" };

describe("blobStoreConfigFromEnv", () => {
  it("stores files under DATA_DIR/blobs by default", () => {
    expect(blobStoreConfigFromEnv({}, "/data")).toEqual({ kind: "fs", root: "/data/blobs" });
    expect(blobStoreConfigFromEnv({ BLOB_STORE: " " }, "/data")).toEqual({ kind: "fs", root: "/data/blobs" });
  });

  it("reads an S3 bucket and prefix, with AWS defaults", () => {
    expect(blobStoreConfigFromEnv({ BLOB_STORE: "s3://models/prod/blobs/", ...keys }, "/data")).toEqual({
      kind: "s3",
      bucket: "models",
      prefix: "prod/blobs",
      endpoint: undefined,
      region: "us-east-1",
      forcePathStyle: false,
      credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" },
    });
    expect(blobStoreConfigFromEnv({ BLOB_STORE: "s3://models" }, "/data")).toMatchObject({ bucket: "models", prefix: "", credentials: undefined });
  });

  it("takes an endpoint, region, path style and session token", () => {
    const base = { BLOB_STORE: "s3://models/x", ...keys, AWS_SESSION_TOKEN: "tok", AWS_REGION: "eu-west-3" };
    expect(blobStoreConfigFromEnv({ ...base, S3_ENDPOINT: "http://127.0.0.1:9000" }, "/d")).toMatchObject({
      endpoint: "http://127.0.0.1:9000",
      region: "eu-west-3",
      forcePathStyle: true,
      credentials: { sessionToken: "tok" },
    });
    expect(blobStoreConfigFromEnv({ ...base, AWS_ENDPOINT_URL_S3: "https://s3.example.com", S3_FORCE_PATH_STYLE: "false" }, "/d")).toMatchObject({
      endpoint: "https://s3.example.com",
      forcePathStyle: false,
    });
    expect(blobStoreConfigFromEnv({ ...base, S3_FORCE_PATH_STYLE: "1" }, "/d")).toMatchObject({ forcePathStyle: true });
  });

  it("says what is wrong with malformed values", () => {
    const bad: [NodeJS.ProcessEnv, RegExp][] = [
      [{ BLOB_STORE: "/var/blobs" }, /leave it unset .* or use s3:\/\/bucket\/prefix/],
      [{ BLOB_STORE: "gs://models" }, /s3:\/\/bucket\/prefix/],
      [{ BLOB_STORE: "s3://" }, /not a valid bucket name/],
      [{ BLOB_STORE: "s3://My_Bucket/x" }, /not a valid bucket name/],
      [{ BLOB_STORE: "s3://models/a//b" }, /prefix "a\/\/b" is not valid/],
      [{ BLOB_STORE: "s3://models/a/../b" }, /prefix .* is not valid/],
      [{ BLOB_STORE: "s3://models", S3_ENDPOINT: "127.0.0.1:9000" }, /S3_ENDPOINT=127.0.0.1:9000 is not valid: expected http\(s\):\/\/host\[:port\]/],
      [{ BLOB_STORE: "s3://models", AWS_ENDPOINT_URL_S3: "ftp://x" }, /AWS_ENDPOINT_URL_S3=ftp:\/\/x is not valid/],
      [{ BLOB_STORE: "s3://models", AWS_ACCESS_KEY_ID: "a" }, /set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither/],
      [{ BLOB_STORE: "s3://models", S3_FORCE_PATH_STYLE: "maybe" }, /S3_FORCE_PATH_STYLE=maybe is not valid: use true or false/],
    ];
    for (const [env, message] of bad) {
      expect(() => blobStoreConfigFromEnv(env, "/d"), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => blobStoreConfigFromEnv(env, "/d"), JSON.stringify(env)).toThrow(message);
    }
  });
});

describe("blobStoreFromEnv", () => {
  it("opens the file-system store", async () => {
    const dir = await mkdtemp(join(tmpdir(), "modelreg-cfg-"));
    try {
      const store = await blobStoreFromEnv({}, dir);
      expect(store.kind).toBe("fs");
      const put = await store.put([Buffer.from("hello")]);
      expect(await store.has(put.sha256)).toEqual({ size: 5 });
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("opens an S3 store on the configured endpoint", async () => {
    const server = await startTestS3Server();
    try {
      const store = await blobStoreFromEnv(
        {
          BLOB_STORE: `s3://${server.bucket}/from-env`,
          S3_ENDPOINT: server.endpoint,
          AWS_ACCESS_KEY_ID: server.accessKeyId,
          AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
        },
        "/unused",
      );
      expect(store.kind).toBe("s3");
      const data = Buffer.from("hello");
      const put = await store.put([data], { expectedSha256: createHash("sha256").update(data).digest("hex") });
      expect(put).toMatchObject({ size: 5, created: true });
      expect(await store.has(put.sha256)).toEqual({ size: 5 });
      await store.close();
    } finally {
      await server.stop();
    }
  }, 30_000);
});
