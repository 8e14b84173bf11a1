import { create } from "@bufbuild/protobuf";
import { BadRequestSchema, Code, ConnectError, ErrorInfoSchema } from "@modelreg/sdk";
import { describe, expect, it } from "vitest";
import { errorJson, reportError, type ErrorContext } from "./errors.js";
import { UsageError } from "./exit-codes.js";
import { bufferIo } from "./io.js";

const ctx: ErrorContext = { format: "table", server: "http://localhost:8080", workspace: "default", timeoutMs: 30000 };

function rpcError(code: Code, message: string, reason: string, metadata: Record<string, string> = {}, violations: { field: string; description: string }[] = []) {
  return new ConnectError(message, code, undefined, [
    { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, domain: "modelreg.dev", metadata }) },
    ...(violations.length ? [{ desc: BadRequestSchema, value: create(BadRequestSchema, { fieldViolations: violations }) }] : []),
  ] as never);
}

describe("reportError", () => {
  it("prints the message, one line per bad field, and returns 10 + code", () => {
    const b = bufferIo();
    const err = rpcError(Code.InvalidArgument, "model_id: bad; model.description: too long", "INVALID_ARGUMENT", {}, [
      { field: "model_id", description: "must start with a letter" },
      { field: "model.description", description: "at most 1000 characters" },
    ]);
    expect(reportError(err, b.io, ctx)).toBe(13);
    expect(b.stderr).toBe("error: invalid request:\n  model_id: must start with a letter\n  model.description: at most 1000 characters\n");
    expect(b.stdout).toBe("");
  });

  it("hints at starting the server when it is unreachable", () => {
    const b = bufferIo();
    expect(reportError(new ConnectError("connect ECONNREFUSED 127.0.0.1:1", Code.Unavailable), b.io, { ...ctx, server: "http://127.0.0.1:1" })).toBe(24);
    expect(b.stderr).toContain("hint: is the server running at http://127.0.0.1:1? start it with npm start");
  });

  it("hints at NODE_EXTRA_CA_CERTS when the server's certificate is not trusted", () => {
    const b = bufferIo();
    const tlsError = Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    reportError(new ConnectError(tlsError.message, Code.Internal, undefined, undefined, tlsError), b.io, { ...ctx, server: "https://127.0.0.1:8443" });
    expect(b.stderr).toContain("hint: the server's TLS certificate is not trusted here: set NODE_EXTRA_CA_CERTS to a PEM file");
  });

  it("hints at re-reading on a stale etag, with the current one", () => {
    const b = bufferIo();
    expect(reportError(rpcError(Code.Aborted, "changed", "ETAG_MISMATCH", { current_etag: "abc" }), b.io, ctx)).toBe(20);
    expect(b.stderr).toContain("hint: it changed since you read it; re-read it with get and retry with the new etag (now abc)");
  });

  it("hints at the workspace on NotFound and at --force for a model with versions", () => {
    const b = bufferIo();
    reportError(rpcError(Code.NotFound, "model x not found", "NOT_FOUND"), b.io, { ...ctx, workspace: "team-a" });
    reportError(rpcError(Code.FailedPrecondition, "has versions", "MODEL_HAS_VERSIONS"), b.io, ctx);
    expect(b.stderr).toContain('short names resolve in workspace "team-a"');
    expect(b.stderr).toContain("add --force");
  });

  it("hints at logging in on Unauthenticated, naming the key sent but not its secret", () => {
    const err = rpcError(Code.Unauthenticated, "access key AKX is not known to this server", "UNAUTHENTICATED");
    const none = bufferIo();
    expect(reportError(err, none.io, { ...ctx, server: "https://r.example.com", credential: { token: undefined, source: { kind: "none" } } })).toBe(26);
    expect(none.stderr).toContain("hint: no access key was sent: log in with `modelreg login` or set MODELREG_ACCESS_KEY\n");

    const local = bufferIo();
    reportError(err, local.io, { ...ctx, credential: { token: "AKX.topsecret-value", source: { kind: "profile", profile: "default", path: "/c/profiles.json" }, adminKeyPath: "/srv/data/admin.key" } });
    expect(local.stderr).toContain('hint: the server refused the access key AKX from profile "default" (/c/profiles.json): log in with `modelreg login`');
    expect(local.stderr).toContain("for a server on this machine the CLI also reads the admin key it writes to DATA_DIR/admin.key (looked in /srv/data/admin.key)");
    expect(local.stderr).not.toContain("topsecret");
  });

  it("also writes the error as one JSON line with --output json", () => {
    const b = bufferIo();
    const err = rpcError(Code.NotFound, "model workspaces/default/models/x not found", "NOT_FOUND", { resource: "workspaces/default/models/x" });
    expect(reportError(err, b.io, { ...ctx, format: "json" })).toBe(15);
    const last = b.stderr.trimEnd().split("\n").at(-1)!;
    expect(JSON.parse(last)).toEqual({
      error: {
        code: "not_found",
        message: "model workspaces/default/models/x not found",
        reason: "NOT_FOUND",
        metadata: { resource: "workspaces/default/models/x" },
        fieldViolations: [],
      },
    });
    expect(b.stderr.startsWith("error: model workspaces/default/models/x not found\n")).toBe(true);
  });

  it("reports usage and unexpected errors too", () => {
    expect(errorJson(new UsageError("nothing to update"))).toEqual({ error: { code: "usage", message: "nothing to update" } });
    const b = bufferIo();
    expect(reportError(new Error("boom"), b.io, ctx)).toBe(1);
    expect(b.stderr).toBe("error: boom\n");
  });
});
