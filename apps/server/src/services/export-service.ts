// modelreg.v1.ExportService: thin handlers over the exports domain; a
// SUCCEEDED export gets a freshly signed download URL on every read.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  CancelExportResponseSchema,
  CreateExportResponseSchema,
  DeleteExportResponseSchema,
  type ExportService,
  ExportSchema,
  ExportState,
  type Export as ExportMsg,
  GetExportResponseSchema,
  GetLatestExportResponseSchema,
  ListExportsResponseSchema,
} from "@modelreg/proto";
import type { ExportsDomain, ExportView } from "../domain/exports/index.js";
import { baseUrlOfRequest, type FileUrls } from "../http/file-urls.js";
import { callScope, principalOf } from "../interceptors/auth.js";

export interface ExportServiceDeps {
  exports: ExportsDomain;
  /** URLs for a base address, issued to an access key ("" with AUTH=off). */
  urls: (base: string, accessKeyId?: string) => FileUrls;
  publicUrl?: string;
}

export function exportToProto(e: ExportView, urls: FileUrls): ExportMsg {
  const r = e.row;
  const done = r.state === ExportState.SUCCEEDED && r.sha256 !== null;
  const download = done ? urls.download(r.workspace, r.sha256!, r.fileName) : undefined;
  return create(ExportSchema, {
    name: e.name,
    uid: r.id,
    version: e.version,
    format: r.format,
    state: r.state,
    bytesDone: BigInt(r.bytesDone),
    bytesTotal: BigInt(r.bytesTotal),
    fileName: done ? r.fileName : "",
    fileType: done ? r.fileType : "",
    sizeBytes: BigInt(done ? r.sizeBytes : 0),
    md5: done ? r.md5 : "",
    sha256: done ? r.sha256! : "",
    downloadUrl: download?.url ?? "",
    downloadUrlExpireTime: download ? timestampFromDate(download.expireTime) : undefined,
    errorMessage: r.state === ExportState.SUCCEEDED ? "" : r.errorMessage,
    attempts: r.attempts,
    createTime: timestampFromDate(r.createTime),
    updateTime: timestampFromDate(r.updateTime),
    endTime: r.endTime ? timestampFromDate(r.endTime) : undefined,
  });
}

export function createExportService(deps: ExportServiceDeps): ServiceImpl<typeof ExportService> {
  const urlsFor = (ctx: HandlerContext) => deps.urls(baseUrlOfRequest(deps.publicUrl, ctx.url), principalOf(ctx).keyId);
  return {
    async createExport(req, ctx) {
      const { export: e, created } = await deps.exports.create(callScope(ctx), req.parent, req.format, req.force);
      return create(CreateExportResponseSchema, { export: exportToProto(e, urlsFor(ctx)), created });
    },
    async getExport(req, ctx) {
      return create(GetExportResponseSchema, { export: exportToProto(await deps.exports.get(callScope(ctx), req.name), urlsFor(ctx)) });
    },
    async listExports(req, ctx) {
      const page = await deps.exports.list(callScope(ctx), req.parent, { pageSize: req.pageSize, pageToken: req.pageToken, filter: req.filter });
      const urls = urlsFor(ctx);
      return create(ListExportsResponseSchema, { exports: page.exports.map((e) => exportToProto(e, urls)), nextPageToken: page.nextPageToken });
    },
    async getLatestExport(req, ctx) {
      const e = await deps.exports.latest(callScope(ctx), req.parent, req.format);
      return create(GetLatestExportResponseSchema, { hasRecord: e !== undefined, export: e ? exportToProto(e, urlsFor(ctx)) : undefined });
    },
    async cancelExport(req, ctx) {
      return create(CancelExportResponseSchema, { export: exportToProto(await deps.exports.cancel(callScope(ctx), req.name), urlsFor(ctx)) });
    },
    async deleteExport(req, ctx) {
      await deps.exports.delete(callScope(ctx), req.name);
      return create(DeleteExportResponseSchema, {});
    },
  };
}
