// modelreg.v1.FileService: thin handlers over the files and upload-session
// domains; the streaming RPCs adapt messages to byte streams.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  CommitVersionFilesResponseSchema,
  type FileService,
  GetUploadSessionResponseSchema,
  ListVersionFilesResponseSchema,
  ReadFileResponseSchema,
  StageVersionFilesResponseSchema,
  VersionFileSchema,
  type VersionFile as VersionFileMsg,
  WriteUploadResponseSchema,
} from "@modelreg/proto";
import { InvalidArgumentError } from "../domain/shared/errors.js";
import type { FilesDomain, StoredFile, VersionRef } from "../domain/files/index.js";
import { parseUploadSessionName, type UploadSessionsDomain } from "../domain/files/upload-sessions.js";
import { baseUrlOf, type FileUrls, hostOf } from "../http/file-urls.js";
import { callScope, principalOf } from "../interceptors/auth.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { versionToProto } from "../convert/resources.js";
import { uploadToProto } from "../convert/uploads.js";

/** Bytes per ReadFile message. */
export const READ_CHUNK_BYTES = 1024 * 1024;

export interface FileServiceDeps {
  files: FilesDomain;
  uploads: UploadSessionsDomain;
  store: BlobStore;
  urls: (base: string) => FileUrls;
  publicUrl?: string;
}

function refOf(version: { case: "name" | "uid"; value: string } | { case: undefined; value?: undefined }): VersionRef {
  if (version.case === "name") return { name: version.value };
  if (version.case === "uid") return { uid: version.value };
  throw InvalidArgumentError.field("version", "set exactly one of name (workspaces/{w}/models/{m}/versions/{v}) or uid");
}

function fileToProto(f: StoredFile, download?: { url: string; expireTime: Date }): VersionFileMsg {
  return create(VersionFileSchema, {
    path: f.path,
    sizeBytes: BigInt(f.size),
    sha256: f.sha256,
    md5: f.md5,
    mediaType: f.mediaType,
    downloadUrl: download?.url ?? "",
    downloadUrlExpireTime: download ? timestampFromDate(download.expireTime) : undefined,
  });
}

const fileName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

function toSize(value: bigint, field: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw InvalidArgumentError.field(field, `${value} is out of range: expected 0 to ${Number.MAX_SAFE_INTEGER}`);
  return Number(value);
}

export function createFileService(deps: FileServiceDeps): ServiceImpl<typeof FileService> {
  // ctx.url is the request's absolute URL (built from Host or :authority).
  const urlsFor = (ctx: HandlerContext) => deps.urls(baseUrlOf(deps.publicUrl, hostOf(ctx.url)));
  return {
    async stageVersionFiles(req, ctx) {
      // Sizes are checked in the domain with every other field (a bigint beyond 2^53 becomes an unsafe number there).
      const files = req.files.map((f) => ({ path: f.path, size: Number(f.sizeBytes), sha256: f.sha256, mediaType: f.mediaType }));
      const staged = await deps.files.stage(callScope(ctx), principalOf(ctx).keyId, req.name, files, req.overwrite);
      const urls = urlsFor(ctx);
      return create(StageVersionFilesResponseSchema, {
        files: staged.files.map((s) => ({
          file: fileToProto({ ...s.file, md5: "" }),
          present: s.present,
          upload: s.upload ? uploadToProto(s.upload, urls) : undefined,
        })),
        bytesToUpload: BigInt(staged.bytesToUpload),
      });
    },

    async commitVersionFiles(req, ctx) {
      return create(CommitVersionFilesResponseSchema, { version: versionToProto(await deps.files.commit(callScope(ctx), req.name, req.etag)) });
    },

    async listVersionFiles(req, ctx) {
      const page = await deps.files.list(callScope(ctx), refOf(req.version), req.pageSize, req.pageToken, req.path);
      const urls = urlsFor(ctx);
      return create(ListVersionFilesResponseSchema, {
        files: page.files.map((f) => fileToProto(f, urls.download(page.workspace, f.sha256, fileName(f.path)))),
        nextPageToken: page.nextPageToken,
        version: page.version,
        manifestDigest: page.manifestDigest,
      });
    },

    async getUploadSession(req, ctx) {
      return create(GetUploadSessionResponseSchema, { upload: uploadToProto(await deps.uploads.get(callScope(ctx), req.name), urlsFor(ctx)) });
    },

    async writeUpload(requests, ctx) {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done) throw InvalidArgumentError.field("name", "the stream was empty: the first message names the upload session and the offset");
      const target = parseUploadSessionName("name", first.value.name);
      const body = (async function* () {
        if (first.value.data.length) yield first.value.data;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) if (next.value.data.length) yield next.value.data;
      })();
      const session = await deps.uploads.write(callScope(ctx), target, toSize(first.value.offset, "offset"), body, { signal: ctx.signal });
      return create(WriteUploadResponseSchema, { upload: uploadToProto(session, urlsFor(ctx)) });
    },

    async *readFile(req, ctx) {
      const { file } = await deps.files.file(callScope(ctx), refOf(req.version), req.path);
      const offset = toSize(req.offset, "offset");
      if (offset > file.size) throw InvalidArgumentError.field("offset", `${offset} is past the end of ${file.path} (${file.size} bytes)`);
      const length = req.length === 0n ? undefined : toSize(req.length, "length");
      const stream = await deps.store.get(file.sha256, { offset, length });
      let position = offset;
      let sentFirst = false;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const message = (data: Uint8Array) => {
        const m = create(ReadFileResponseSchema, { file: sentFirst ? undefined : fileToProto(file), offset: BigInt(position), data });
        sentFirst = true;
        position += data.length;
        return m;
      };
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          ctx.signal.throwIfAborted();
          pending.push(chunk);
          pendingBytes += chunk.length;
          while (pendingBytes >= READ_CHUNK_BYTES) {
            const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
            yield message(all.subarray(0, READ_CHUNK_BYTES));
            const rest = all.subarray(READ_CHUNK_BYTES);
            pending = rest.length ? [rest] : [];
            pendingBytes = rest.length;
          }
        }
        if (pendingBytes > 0 || !sentFirst) yield message(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
      } finally {
        stream.destroy();
      }
    },
  };
}
