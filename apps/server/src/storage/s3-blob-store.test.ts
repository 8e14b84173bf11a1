// What the S3 store asks of the server, beyond the shared contract
// (./blob-store.contract.test.ts): which path each kind of put takes, so
// that a change cannot quietly route every blob through a copy, or make a
// partial object visible.
import { ListObjectsCommand, type S3Client } from "@aws-sdk/client-s3";
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ChecksumMismatchError } from "../domain/ports/blob-store-errors.js";
import { createS3BlobStore } from "./s3-blob-store.js";
import { startTestS3Server, type TestS3Server } from "./testing/s3-server.js";

const MiB = 1024 * 1024;
const sha256Of = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

let server: TestS3Server;
let client: S3Client;
/** Commands sent, as "Name key". */
let sent: string[] = [];

beforeAll(async () => {
  server = await startTestS3Server();
  client = server.client();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: string }).Key;
      sent.push(`${context.commandName?.replace(/Command$/, "")}${key ? ` ${key}` : ""}`);
      return next(args);
    },
    { step: "initialize" },
  );
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

beforeEach(() => {
  sent = [];
});

const names = () => sent.map((s) => s.split(" ")[0]);
const store = (prefix: string) => createS3BlobStore({ client, bucket: server.bucket, prefix, partSize: 5 * MiB, maxCopyObjectSize: 6 * MiB, copyPartSize: 5 * MiB });

describe("S3 blob store", () => {
  it("writes a declared small blob with one PutObject to its final key", async () => {
    const data = randomBytes(1000);
    const sha256 = sha256Of(data);
    await store("p1").put([data], { expectedSha256: sha256 });
    expect(sent).toEqual([`HeadObject p1/sha256/${sha256.slice(0, 2)}/${sha256}`, `HeadObject p1/sha256/${sha256.slice(0, 2)}/${sha256}`, `PutObject p1/sha256/${sha256.slice(0, 2)}/${sha256}`]);
  });

  it("writes a declared large blob as a multipart upload to its final key, without a copy", async () => {
    const data = randomBytes(12 * MiB);
    const sha256 = sha256Of(data);
    await store("p2").put([data], { expectedSha256: sha256 });
    expect(names().filter((n) => n !== "HeadObject")).toEqual(["CreateMultipartUpload", "UploadPart", "UploadPart", "UploadPart", "CompleteMultipartUpload"]);
    expect(sent.every((s) => s.endsWith(sha256))).toBe(true);
  });

  it("copies an undeclared blob from a temp key, in parts when it is large", async () => {
    const data = randomBytes(12 * MiB);
    await store("p3").put([data]);
    const n = names();
    expect(n.filter((x) => x === "UploadPartCopy")).toHaveLength(3);
    expect(n).not.toContain("CopyObject");
    expect(sent.filter((s) => s.startsWith("CreateMultipartUpload")).map((s) => s.split(" ")[1]!.split("/")[1])).toEqual(["tmp", "sha256"]);
    expect(sent.at(-1)).toMatch(/^DeleteObject p3\/tmp\//);
    sent = [];
    await store("p3").put([randomBytes(100)]);
    expect(names()).toContain("CopyObject");
  });

  it("never completes the upload of a mismatch", async () => {
    const data = randomBytes(12 * MiB);
    await expect(store("p4").put([data], { expectedSha256: "1".repeat(64) })).rejects.toThrow(ChecksumMismatchError);
    expect(names()).not.toContain("CompleteMultipartUpload");
    expect(names()).not.toContain("PutObject");
    expect(names()).toContain("AbortMultipartUpload"); // refused by s3rver; best effort
  });

  it("uploads nothing for content it has", async () => {
    const data = randomBytes(7 * MiB);
    await store("p5").put([data]);
    sent = [];
    expect((await store("p5").put([data], { expectedSha256: sha256Of(data) })).created).toBe(false);
    expect(names()).toEqual(["HeadObject"]);
  });

  it("uses the bucket's root when the prefix is empty, and trims slashes", async () => {
    const data = randomBytes(10);
    const sha256 = sha256Of(data);
    await store("").put([data], { expectedSha256: sha256 });
    expect(sent.at(-1)).toBe(`PutObject sha256/${sha256.slice(0, 2)}/${sha256}`);
    expect(await store("/").has(sha256)).toEqual({ size: 10 });
    await store("/a/b/").put([data], { expectedSha256: sha256 });
    const { Contents } = await client.send(new ListObjectsCommand({ Bucket: server.bucket, Prefix: "a/b/" }));
    expect(Contents?.map((o) => o.Key)).toEqual([`a/b/sha256/${sha256.slice(0, 2)}/${sha256}`]);
  });

  it("refuses part sizes S3 would refuse", () => {
    expect(() => createS3BlobStore({ client, bucket: "b", partSize: MiB })).toThrow(/5 MiB to 5 GiB/);
  });
});
