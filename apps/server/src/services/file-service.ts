// modelreg.v1.FileService: thin handlers over the files and upload-session
// domains; the streaming RPCs (file-streams.ts) adapt messages to byte
// streams, file-messages.ts maps messages to domain values and back.
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  CommitVersionFilesResponseSchema,
  CreateUploadSessionResponseSchema,
  type FileService,
  GetUploadSessionResponseSchema,
  ListVersionFilesResponseSchema,
  StageVersionFilesResponseSchema,
} from "@modelreg/proto";
import type { FilesDomain } from "../domain/files/index.js";
import type { UploadSessionsDomain } from "../domain/files/index.js";
import { baseUrlOfRequest, type FileUrls } from "../http/file-urls.js";
import { callScope, principalOf } from "../interceptors/auth.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { fileSpecOf } from "../convert/files.js";
import { versionToProto } from "../convert/resources.js";
import { uploadToProto } from "../convert/uploads.js";
import { fileWithUrl, refOf, stagedToProto } from "./file-messages.js";
import { readFile, writeUpload } from "./file-streams.js";

export { READ_CHUNK_BYTES } from "./file-streams.js";

export interface FileServiceDeps {
  files: FilesDomain;
  uploads: UploadSessionsDomain;
  store: BlobStore;
  /** URLs for a base address, issued to an access key ("" with AUTH=off). */
  urls: (base: string, accessKeyId?: string) => FileUrls;
  publicUrl?: string;
}

export function createFileService(deps: FileServiceDeps): ServiceImpl<typeof FileService> {
  // ctx.url is the request's absolute URL (built from Host or :authority).
  const urlsFor = (ctx: HandlerContext) => deps.urls(baseUrlOfRequest(deps.publicUrl, ctx.url), principalOf(ctx).keyId);
  return {
    async stageVersionFiles(req, ctx) {
      const files = req.files.map(fileSpecOf);
      const staged = await deps.files.stage(callScope(ctx), principalOf(ctx).keyId, req.name, files, req.overwrite);
      const urls = urlsFor(ctx);
      return create(StageVersionFilesResponseSchema, {
        files: staged.files.map((s) => stagedToProto(s, urls)),
        bytesToUpload: BigInt(staged.bytesToUpload),
      });
    },

    async createUploadSession(req, ctx) {
      const result = await deps.files.createUploadSession(callScope(ctx), principalOf(ctx).keyId, {
        parent: req.parent,
        // The domain checks the range; a value past 2^53 is past it either way.
        size: Number(req.sizeBytes),
        headSha256: req.headSha256,
        overwrite: req.overwrite,
      });
      return create(CreateUploadSessionResponseSchema, result.mayBeHeld ? { mayBeHeld: true } : { upload: uploadToProto(result.upload, urlsFor(ctx)) });
    },

    async commitVersionFiles(req, ctx) {
      return create(CommitVersionFilesResponseSchema, { version: versionToProto(await deps.files.commit(callScope(ctx), req.name, req.etag)) });
    },

    async listVersionFiles(req, ctx) {
      const page = await deps.files.list(callScope(ctx), refOf(req.version), req.pageSize, req.pageToken, req.path);
      const urls = urlsFor(ctx);
      return create(ListVersionFilesResponseSchema, {
        files: page.files.map((f) => fileWithUrl(page.workspace, f, urls)),
        nextPageToken: page.nextPageToken,
        version: page.version,
        manifestDigest: page.manifestDigest,
      });
    },

    async getUploadSession(req, ctx) {
      return create(GetUploadSessionResponseSchema, { upload: uploadToProto(await deps.uploads.get(callScope(ctx), req.name), urlsFor(ctx)) });
    },

    writeUpload: (requests, ctx) => writeUpload(deps, requests, ctx, urlsFor),

    readFile: (req, ctx) => readFile(deps, req, ctx),
  };
}
