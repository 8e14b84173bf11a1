// modelreg.v1.WorkspaceService: workspaces, access keys, the audit log and
// server info, as thin handlers over their domains.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  AccessKeySchema,
  AuditEventSchema,
  GetServerInfoResponseSchema,
  WorkspaceSchema,
  type WorkspaceService,
} from "@modelreg/proto";
import type { Authenticator } from "../auth/authenticator.js";
import type { AccessKey, AccessKeysDomain } from "../domain/keys/index.js";
import type { AuditDomain, AuditEvent } from "../domain/audit/index.js";
import type { Workspace, WorkspacesDomain } from "../domain/workspaces/index.js";
import { callScope, principalOf } from "../interceptors/auth.js";

const ts = (d: Date | null) => (d ? timestampFromDate(d) : undefined);

function workspaceToProto(w: Workspace) {
  return create(WorkspaceSchema, { ...w, createTime: ts(w.createTime), updateTime: ts(w.updateTime) });
}

function accessKeyToProto(k: AccessKey) {
  return create(AccessKeySchema, {
    ...k,
    expireTime: ts(k.expireTime),
    createTime: ts(k.createTime),
    revokeTime: ts(k.revokeTime),
    lastUsedTime: ts(k.lastUsedTime),
  });
}

function auditEventToProto(e: AuditEvent) {
  return create(AuditEventSchema, { ...e, time: ts(e.time) });
}

export interface WorkspaceServiceDeps {
  workspaces: WorkspacesDomain;
  accessKeys: AccessKeysDomain;
  audit: AuditDomain;
  authenticator: Authenticator;
  info: { serverVersion: string; authEnabled: boolean; database: string };
}

export function createWorkspaceService(d: WorkspaceServiceDeps): ServiceImpl<typeof WorkspaceService> {
  return {
    async createWorkspace(req) {
      return { workspace: workspaceToProto(await d.workspaces.create(req.workspaceId, req.workspace?.description ?? "")) };
    },
    async getWorkspace(req, ctx) {
      return { workspace: workspaceToProto(await d.workspaces.get(callScope(ctx), req.name)) };
    },
    async listWorkspaces(req, ctx) {
      const page = await d.workspaces.list(callScope(ctx), req.pageSize, req.pageToken);
      return { workspaces: page.workspaces.map(workspaceToProto), nextPageToken: page.nextPageToken };
    },
    async updateWorkspace(req, ctx) {
      const w = await d.workspaces.update(callScope(ctx), req.workspace?.name ?? "", req.updateMask?.paths ?? [], req.workspace?.description ?? "");
      return { workspace: workspaceToProto(w) };
    },
    async deleteWorkspace(req, ctx) {
      await d.workspaces.delete(callScope(ctx), req.name);
      return {};
    },

    async createAccessKey(req, ctx) {
      const k = req.accessKey;
      const made = await d.accessKeys.create(callScope(ctx), req.parent, {
        user: k?.user ?? "",
        role: k?.role ?? 0,
        expireTime: k?.expireTime ? timestampDate(k.expireTime) : null,
        description: k?.description ?? "",
      });
      return { accessKey: accessKeyToProto(made.accessKey), secret: made.secret, token: made.token };
    },
    async listAccessKeys(req, ctx) {
      const page = await d.accessKeys.list(callScope(ctx), req.parent, req.pageSize, req.pageToken, req.showRevoked);
      return { accessKeys: page.accessKeys.map(accessKeyToProto), nextPageToken: page.nextPageToken };
    },
    async revokeAccessKey(req, ctx) {
      const k = await d.accessKeys.revoke(callScope(ctx), req.name);
      d.authenticator.forget(k.keyId);
      return { accessKey: accessKeyToProto(k) };
    },
    async rotateAccessKey(req, ctx) {
      const made = await d.accessKeys.rotate(callScope(ctx), req.name);
      d.authenticator.forget(made.accessKey.rotatedFrom);
      return { accessKey: accessKeyToProto(made.accessKey), secret: made.secret, token: made.token };
    },

    async listAuditEvents(req, ctx) {
      const page = await d.audit.list(callScope(ctx), req.parent, req.filter, req.pageSize, req.pageToken);
      return { auditEvents: page.events.map(auditEventToProto), nextPageToken: page.nextPageToken };
    },

    async getServerInfo(_req, ctx) {
      const p = principalOf(ctx);
      return create(GetServerInfoResponseSchema, {
        ...d.info,
        user: p.user,
        accessKeyId: p.keyId,
        workspace: p.workspace ? `workspaces/${p.workspace}` : "",
        role: p.role,
        keyExpireTime: ts(p.expireTime),
      });
    },
  };
}
