// Which blob store to use, from environment variables: files under
// DATA_DIR/blobs unless BLOB_STORE names an S3 bucket.
import { join } from "node:path";
import { ConfigError } from "../config.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { createFsBlobStore } from "./fs-blob-store.js";

/** For the server's --help, in the shape of SETTINGS in ../config.ts. */
export const BLOB_STORE_SETTINGS = [
  { name: "BLOB_STORE", default: "", help: "where model files are stored: unset = files under DATA_DIR/blobs; s3://bucket/prefix = an S3-compatible bucket" },
  { name: "S3_ENDPOINT", default: "", help: "S3 endpoint URL for MinIO, Ceph, R2 and the like (or AWS_ENDPOINT_URL_S3); unset = AWS S3" },
  { name: "AWS_REGION", default: "us-east-1", help: "region of the bucket" },
  { name: "AWS_ACCESS_KEY_ID", default: "", help: "S3 access key, with AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); unset = the AWS SDK's default credentials (instance role, profile)" },
  { name: "S3_FORCE_PATH_STYLE", default: "", help: "true: bucket in the URL path (most non-AWS servers); false: bucket as a host name; default true when S3_ENDPOINT is set" },
];

export type BlobStoreConfig =
  | { kind: "fs"; root: string }
  | {
      kind: "s3";
      bucket: string;
      prefix: string;
      endpoint: string | undefined;
      region: string;
      forcePathStyle: boolean;
      credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
    };

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function parseBlobStoreUrl(value: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(value);
  if (!m) throw new ConfigError(`BLOB_STORE=${value} is not valid: leave it unset to store files under DATA_DIR/blobs, or use s3://bucket/prefix`);
  const bucket = m[1]!;
  if (!BUCKET.test(bucket))
    throw new ConfigError(`BLOB_STORE=${value}: "${bucket}" is not a valid bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`);
  const prefix = (m[2] ?? "").replace(/\/+$/, "");
  if (prefix !== "" && (/[\u0000-\u001f\u007f\\]/.test(prefix) || prefix.split("/").some((s) => s === "" || s === "." || s === "..")))
    throw new ConfigError(`BLOB_STORE=${value}: the prefix "${prefix}" is not valid: use '/'-separated names without empty, '.' or '..' parts`);
  return { bucket, prefix };
}

function parseBool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (["true", "1", "yes", "on"].includes(raw)) return true;
  if (["false", "0", "no", "off"].includes(raw)) return false;
  throw new ConfigError(`${name}=${env[name]} is not valid: use true or false`);
}

/** Reads and checks the blob store settings; throws ConfigError with what to change. */
export function blobStoreConfigFromEnv(env: NodeJS.ProcessEnv, dataDir: string): BlobStoreConfig {
  const location = env.BLOB_STORE?.trim();
  if (!location) return { kind: "fs", root: join(dataDir, "blobs") };
  const { bucket, prefix } = parseBlobStoreUrl(location);

  const endpointName = env.S3_ENDPOINT?.trim() ? "S3_ENDPOINT" : "AWS_ENDPOINT_URL_S3";
  const endpoint = env[endpointName]?.trim() || undefined;
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || !["http:", "https:"].includes(url.protocol) || url.pathname.length > 1 || url.search)
      throw new ConfigError(`${endpointName}=${endpoint} is not valid: expected http(s)://host[:port], e.g. http://127.0.0.1:9000`);
  }

  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim() || undefined;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim() || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined))
    throw new ConfigError("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (to use the AWS SDK's default credentials)");
  const sessionToken = env.AWS_SESSION_TOKEN?.trim() || undefined;

  return {
    kind: "s3",
    bucket,
    prefix,
    endpoint,
    region: env.AWS_REGION?.trim() || "us-east-1",
    forcePathStyle: parseBool(env, "S3_FORCE_PATH_STYLE", endpoint !== undefined),
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined,
  };
}

/** The blob store the settings name; close() it on shutdown. */
export async function blobStoreFromEnv(env: NodeJS.ProcessEnv, dataDir: string): Promise<BlobStore> {
  const config = blobStoreConfigFromEnv(env, dataDir);
  if (config.kind === "fs") return createFsBlobStore({ root: config.root });
  // The SDK warns at its first client on Node < 22 that its releases after
  // January 2027 will need Node 22. modelreg pins the SDK (package-lock.json)
  // and states the Node versions it supports in engines, which
  // test/engines.test.ts checks against every installed package, so an SDK
  // that needs a newer Node cannot come in unnoticed: the warning tells an
  // operator nothing to act on. An explicit setting is left as it is.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ||= "true";
  // Loaded only for S3: the AWS SDK is large, and a server on the file system never needs it.
  const [{ S3Client }, { createS3BlobStore }] = await Promise.all([import("@aws-sdk/client-s3"), import("./s3-blob-store.js")]);
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: config.credentials,
    // Since 2025 the SDK adds CRC checksum headers to every upload, which
    // many S3-compatible servers do not understand yet: when the server is
    // not AWS, send them only where the operation requires them. Bodies are
    // still covered by the request signature (x-amz-content-sha256 is the
    // payload's hash), which the server checks.
    ...(config.endpoint ? { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } : {}),
  });
  return createS3BlobStore({ client, bucket: config.bucket, prefix: config.prefix, ownsClient: true });
}
