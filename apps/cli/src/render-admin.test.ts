import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { AccessKeySchema, AuditEventSchema, GetServerInfoResponseSchema, Role } from "@modelreg/sdk";
import { describe, expect, it } from "vitest";
import { keyStatus, renderAccessKeysTable, renderAuditTable, renderServerInfo, roleName, shortMethod } from "./render-admin.js";

const now = new Date(Date.UTC(2026, 2, 1, 12, 0, 0));
const at = (iso: string) => timestampFromMs(Date.parse(iso));

describe("access keys", () => {
  const active = create(AccessKeySchema, { keyId: "AKA", user: "alice", role: Role.EDITOR, createTime: at("2026-02-01T00:00:00Z") });
  const expired = create(AccessKeySchema, { keyId: "AKB", user: "bob", role: Role.VIEWER, expireTime: at("2026-03-01T11:59:59Z"), description: "old\nci key" });
  const revoked = create(AccessKeySchema, { keyId: "AKC", user: "carol", role: Role.ADMIN, revokeTime: at("2026-02-02T00:00:00Z"), lastUsedTime: at("2026-02-01T10:00:00Z") });

  it("knows active, expired and revoked", () => {
    expect([active, expired, revoked].map((k) => keyStatus(k, now))).toEqual(["active", "expired", "revoked"]);
    expect([Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.UNSPECIFIED].map(roleName)).toEqual(["viewer", "editor", "admin", "-"]);
  });

  it("lists KEY ID, USER, ROLE, STATUS, EXPIRES, LAST USED, CREATED, DESCRIPTION", () => {
    const lines = renderAccessKeysTable([active, expired, revoked], { now }).split("\n");
    expect(lines[0]).toMatch(/^KEY ID\s+USER\s+ROLE\s+STATUS\s+EXPIRES\s+LAST USED\s+CREATED\s+DESCRIPTION$/);
    expect(lines[1]).toMatch(/^AKA\s+alice\s+editor\s+active\s+never\s+never\s+2026-02-01T00:00:00Z\s+-$/);
    expect(lines[2]).toMatch(/^AKB\s+bob\s+viewer\s+expired\s+2026-03-01T11:59:59Z\s+never\s+-\s+old ci key$/);
    expect(lines[3]).toMatch(/^AKC\s+carol\s+admin\s+revoked\s+never\s+2026-02-01T10:00:00Z\s+/);
  });
});

describe("audit events", () => {
  it("shortens modelreg methods and fills empty cells with -", () => {
    expect(shortMethod("modelreg.v1.VersionService/UpdateVersion")).toBe("VersionService/UpdateVersion");
    expect(shortMethod("grpc.health.v1.Health/Check")).toBe("grpc.health.v1.Health/Check");
    const anonymous = create(AuditEventSchema, { time: at("2026-03-01T12:00:00Z"), method: "modelreg.v1.ModelService/CreateModel", code: "unauthenticated" });
    const [, row] = renderAuditTable([anonymous]).split("\n");
    expect(row).toMatch(/^2026-03-01T12:00:00Z\s+-\s+-\s+ModelService\/CreateModel\s+-\s+unauthenticated$/);
  });
});

describe("server info", () => {
  it("shows the caller, the server and where the key came from", () => {
    const info = create(GetServerInfoResponseSchema, {
      serverVersion: "0.1.0",
      authEnabled: true,
      database: "pglite",
      user: "alice",
      accessKeyId: "AKA",
      workspace: "workspaces/team-a",
      role: Role.EDITOR,
      keyExpireTime: at("2026-12-31T00:00:00Z"),
    });
    const text = renderServerInfo(info, "http://localhost:8080", "access key AKA from MODELREG_ACCESS_KEY");
    expect(text).toMatch(/^User:\s+alice$/m);
    expect(text).toMatch(/^Role:\s+editor$/m);
    expect(text).toMatch(/^Workspace:\s+workspaces\/team-a$/m);
    expect(text).toMatch(/^Key expires:\s+2026-12-31T00:00:00Z$/m);
    expect(text).toMatch(/^Credential:\s+access key AKA from MODELREG_ACCESS_KEY$/m);
    const off = renderServerInfo(create(GetServerInfoResponseSchema, { serverVersion: "0.1.0", authEnabled: false, role: Role.ADMIN }), "http://localhost:8080", "no access key");
    expect(off).toMatch(/^Auth:\s+disabled \(AUTH=off\)$/m);
    expect(off).toMatch(/^User:\s+- \(the server runs without authentication\)$/m);
  });
});
