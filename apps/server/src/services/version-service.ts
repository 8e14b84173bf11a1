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
import { InvalidArgumentError } from "../domain/errors.js";
import type { VersionsDomain } from "../domain/versions.js";
import { versionToProto } from "./convert.js";

export function createVersionService(versions: VersionsDomain): ServiceImpl<typeof VersionService> {
  return {
    async createVersion(req) {
      const v = await versions.create(req.parent, req.versionId, { description: req.version?.description ?? "", labels: req.version?.labels ?? {} });
      return create(CreateVersionResponseSchema, { version: versionToProto(v) });
    },
    async getVersion(req) {
      const ref = req.ref;
      if (ref.case === "name") return create(GetVersionResponseSchema, { version: versionToProto(await versions.get({ name: ref.value })) });
      if (ref.case === "uid") return create(GetVersionResponseSchema, { version: versionToProto(await versions.get({ uid: ref.value })) });
      throw InvalidArgumentError.field("ref", "set exactly one of name (workspaces/{w}/models/{m}/versions/{v}) or uid");
    },
    async listVersions(req) {
      const page = await versions.list(req.parent, req.pageSize, req.pageToken);
      return create(ListVersionsResponseSchema, { versions: page.versions.map(versionToProto), nextPageToken: page.nextPageToken });
    },
    async updateVersion(req) {
      const v = await versions.update(req.version?.name ?? "", req.version?.etag ?? "", req.updateMask?.paths ?? [], {
        description: req.version?.description ?? "",
        labels: req.version?.labels ?? {},
      });
      return create(UpdateVersionResponseSchema, { version: versionToProto(v) });
    },
    async deleteVersion(req) {
      await versions.delete(req.name, req.etag);
      return create(DeleteVersionResponseSchema, {});
    },
  };
}
