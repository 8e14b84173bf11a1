// modelreg.v1.VersionService: thin handlers over the versions domain.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CreateVersionResponseSchema,
  DeleteVersionResponseSchema,
  GetVersionResponseSchema,
  ListVersionsResponseSchema,
  UpdateVersionResponseSchema,
  type VersionService,
} from "@modelreg/proto";
import { InvalidArgumentError } from "../domain/shared/errors.js";
import type { VersionsDomain } from "../domain/versions/index.js";
import { callScope } from "../interceptors/auth.js";
import { lineageOf, versionFieldsOf, versionToProto } from "../convert/resources.js";

export function createVersionService(versions: VersionsDomain): ServiceImpl<typeof VersionService> {
  return {
    async createVersion(req, ctx) {
      const v = await versions.create(callScope(ctx), req.parent, req.versionId, versionFieldsOf(req.version), lineageOf(req.version), req.requestId);
      return create(CreateVersionResponseSchema, { version: versionToProto(v) });
    },
    async getVersion(req, ctx) {
      const ref = req.ref;
      const scope = callScope(ctx);
      if (ref.case === "name") return create(GetVersionResponseSchema, { version: versionToProto(await versions.get(scope, { name: ref.value })) });
      if (ref.case === "uid") return create(GetVersionResponseSchema, { version: versionToProto(await versions.get(scope, { uid: ref.value })) });
      throw InvalidArgumentError.field("ref", "set exactly one of name (workspaces/{w}/models/{m}/versions/{v}, or workspaces/{w}/models/{m}@{alias}) or uid");
    },
    async listVersions(req, ctx) {
      const page = await versions.list(callScope(ctx), req.parent, { pageSize: req.pageSize, pageToken: req.pageToken, filter: req.filter, orderBy: req.orderBy });
      return create(ListVersionsResponseSchema, { versions: page.versions.map(versionToProto), nextPageToken: page.nextPageToken });
    },
    async updateVersion(req, ctx) {
      const v = await versions.update(callScope(ctx), req.version?.name ?? "", req.version?.etag ?? "", req.updateMask?.paths ?? [], versionFieldsOf(req.version));
      return create(UpdateVersionResponseSchema, { version: versionToProto(v) });
    },
    async deleteVersion(req, ctx) {
      await versions.delete(callScope(ctx), req.name, req.etag);
      return create(DeleteVersionResponseSchema, {});
    },
  };
}
