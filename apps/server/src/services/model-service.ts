// modelreg.v1.ModelService: thin handlers over the models domain.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CreateModelResponseSchema,
  DeleteModelResponseSchema,
  GetModelResponseSchema,
  ListModelsResponseSchema,
  type ModelService,
  UpdateModelResponseSchema,
} from "@modelreg/proto";
import type { ModelsDomain } from "../domain/models.js";
import { callScope } from "../interceptors/auth.js";
import { modelToProto } from "./convert.js";

export function createModelService(models: ModelsDomain): ServiceImpl<typeof ModelService> {
  return {
    async createModel(req, ctx) {
      const m = await models.create(callScope(ctx), req.parent, req.modelId, { description: req.model?.description ?? "", labels: req.model?.labels ?? {} });
      return create(CreateModelResponseSchema, { model: modelToProto(m) });
    },
    async getModel(req, ctx) {
      return create(GetModelResponseSchema, { model: modelToProto(await models.get(callScope(ctx), req.name)) });
    },
    async listModels(req, ctx) {
      const page = await models.list(callScope(ctx), req.parent, req.pageSize, req.pageToken);
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
  };
}
