// modelreg.v1.ModelService: thin handlers over the models and aliases domains.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CreateModelResponseSchema,
  DeleteAliasResponseSchema,
  DeleteModelResponseSchema,
  GetModelResponseSchema,
  ListModelsResponseSchema,
  type ModelService,
  SetAliasResponseSchema,
  UpdateModelResponseSchema,
} from "@modelreg/proto";
import type { AliasesDomain } from "../domain/aliases/index.js";
import type { ModelsDomain } from "../domain/models/index.js";
import { callScope, principalOf } from "../interceptors/auth.js";
import { aliasToProto, modelToProto, versionToProto } from "../convert/resources.js";

export function createModelService(models: ModelsDomain, aliases: AliasesDomain): ServiceImpl<typeof ModelService> {
  return {
    async createModel(req, ctx) {
      const m = await models.create(callScope(ctx), req.parent, req.modelId, { description: req.model?.description ?? "", labels: req.model?.labels ?? {} }, req.requestId);
      return create(CreateModelResponseSchema, { model: modelToProto(m) });
    },
    async getModel(req, ctx) {
      return create(GetModelResponseSchema, { model: modelToProto(await models.get(callScope(ctx), req.name)) });
    },
    async listModels(req, ctx) {
      const page = await models.list(callScope(ctx), req.parent, { pageSize: req.pageSize, pageToken: req.pageToken, filter: req.filter, orderBy: req.orderBy });
      return create(ListModelsResponseSchema, { models: page.models.map(modelToProto), nextPageToken: page.nextPageToken });
    },
    async updateModel(req, ctx) {
      const m = await models.update(callScope(ctx), req.model?.name ?? "", req.model?.etag ?? "", req.updateMask?.paths ?? [], {
        description: req.model?.description ?? "",
        labels: req.model?.labels ?? {},
      });
      return create(UpdateModelResponseSchema, { model: modelToProto(m) });
    },
    async deleteModel(req, ctx) {
      await models.delete(callScope(ctx), req.name, req.etag, req.force);
      return create(DeleteModelResponseSchema, {});
    },
    async setAlias(req, ctx) {
      const { alias, version } = await aliases.set(callScope(ctx), principalOf(ctx), {
        model: req.model,
        alias: req.alias,
        version: req.version,
        protected: req.protected,
        expectedVersion: req.expectedVersion,
      });
      return create(SetAliasResponseSchema, { alias: aliasToProto(alias), version: versionToProto(version) });
    },
    async deleteAlias(req, ctx) {
      await aliases.delete(callScope(ctx), principalOf(ctx), req.model, req.alias);
      return create(DeleteAliasResponseSchema, {});
    },
  };
}
