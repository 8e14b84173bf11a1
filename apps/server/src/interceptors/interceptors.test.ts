// The interceptor stack: request ids, access log lines, and the error
// mapping that never lets SQL or stack traces reach a client.
import { Writable } from "node:stream";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { createTestDatabase, type TestDatabase } from "@modelreg/db/testing";
import { createRegistryClient, errorDetails } from "@modelreg/sdk";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createTestStore, TEST_SIGNING_KEYS } from "../testing/test-store.js";
import { createApp } from "../app.js";
import { InvalidArgumentError } from "../domain/shared/errors.js";
import { ensureDefaultWorkspace } from "../domain/workspaces/index.js";
import { toConnectError } from "./errors.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, logger: pino({ level: "debug" }, stream) };
}

describe("error mapping", () => {
  it("turns an unknown error into Internal with a request id, logging the cause but never sending it", () => {
    const { lines, logger } = capture();
    const sqlError = Object.assign(new Error('relation "versions" does not exist: SELECT * FROM versions WHERE id = $1'), { code: "42P01" });
    const e = toConnectError(sqlError, "req-123", logger);
    expect(e.code).toBe(Code.Internal);
    expect(e.rawMessage).toBe("internal error (request id req-123); this is a bug in modelreg, please report it with the request id");
    expect(e.rawMessage).not.toMatch(/select|relation/i);
    expect(e.metadata.get("x-request-id")).toBe("req-123");
    expect(lines.some((l) => l.requestId === "req-123" && JSON.stringify(l).includes("relation"))).toBe(true);
  });

  it("maps a connection failure to Unavailable", () => {
    const { logger } = capture();
    const e = toConnectError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }), "r", logger);
    expect(e.code).toBe(Code.Unavailable);
  });

  it("maps whatever a call fails with after its client went away to Canceled, logging nothing; a domain outcome or a deadline keeps its code", () => {
    const { lines, logger } = capture();
    const gone = new AbortController();
    gone.abort();
    const premature = Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
    const reset = Object.assign(new Error("aborted"), { code: "ECONNRESET" });
    expect([premature, reset].map((e) => toConnectError(e, "r", logger, gone.signal).code)).toEqual([Code.Canceled, Code.Canceled]);
    expect(lines).toEqual([]);
    expect(toConnectError(new InvalidArgumentError([{ field: "x", description: "bad" }]), "r", logger, gone.signal).code).toBe(Code.InvalidArgument);
    const late = new AbortController();
    late.abort(new ConnectError("the deadline passed", Code.DeadlineExceeded));
    expect(toConnectError(premature, "r", logger, late.signal).code).toBe(Code.Internal);
    // Without a client gone, a reset is still what it was: a database connection lost.
    expect(toConnectError(reset, "r", logger, new AbortController().signal).code).toBe(Code.Unavailable);
  });

  it("carries BadRequest field violations for invalid arguments", () => {
    const { logger } = capture();
    const e = toConnectError(new InvalidArgumentError([{ field: "model_id", description: "is required" }]), "r", logger);
    expect(e.code).toBe(Code.InvalidArgument);
    expect(errorDetails(e).fieldViolations).toEqual([{ field: "model_id", description: "is required" }]);
    expect(errorDetails(e).reason).toBe("INVALID_ARGUMENT");
  });
});

describe("request ids and access log", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("pglite");
    await ensureDefaultWorkspace(db.db);
  }, 60_000);
  afterAll(async () => db?.close());

  it("echoes the caller's x-request-id and logs one line per call with its code", async () => {
    const { lines, logger } = capture();
    const { store, remove } = createTestStore();
    onTestFinished(remove);
    const app = createApp({ db: db.db, logger, auth: { enabled: false }, store, signingKeys: TEST_SIGNING_KEYS });
    const transport = createRouterTransport(app.routes, { router: { interceptors: app.interceptors } });
    const client = createRegistryClient({ baseUrl: "http://in-process", transport });
    let echoed: string | null = null;
    await client.models.createModel(
      { parent: "workspaces/default", modelId: "logged" },
      { headers: { "x-request-id": "trace-42" }, onHeader: (h) => (echoed = h.get("x-request-id")) },
    );
    expect(echoed).toBe("trace-42");
    const missing = await client.models.getModel({ name: "workspaces/default/models/nope" }).catch((e: unknown) => e as ConnectError);
    expect(missing).toBeInstanceOf(ConnectError);
    expect((missing as ConnectError).metadata.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

    const calls = lines.filter((l) => l.msg === "call");
    expect(calls).toEqual([
      expect.objectContaining({ rpc: "modelreg.v1.ModelService/CreateModel", code: "ok", requestId: "trace-42", level: 30 }),
      expect.objectContaining({ rpc: "modelreg.v1.ModelService/GetModel", code: "not_found", level: 30 }),
    ]);
  });
});
