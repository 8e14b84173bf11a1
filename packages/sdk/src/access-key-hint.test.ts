// An Unauthenticated answer tells an SDK user what to do about the key, as
// the CLI does: against a real server with keys on.
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { accessKeyHint } from "./access-key-hint.js";
import { createRegistryClient } from "./client.js";
import { Code, ConnectError, errorDetails } from "./errors.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer("pglite", { auth: true });
}, 60_000);
afterAll(async () => server?.close());

async function refusal(accessKey: string, baseUrl = server.url): Promise<ConnectError> {
  const saved = process.env.MODELREG_ACCESS_KEY;
  delete process.env.MODELREG_ACCESS_KEY;
  try {
    const client = createRegistryClient({ baseUrl, accessKey });
    const err = await client.models.listModels({ parent: "workspaces/default" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    return err as ConnectError;
  } finally {
    if (saved !== undefined) process.env.MODELREG_ACCESS_KEY = saved;
  }
}

it("says where a key comes from when none was sent, and where a local server keeps its admin key", async () => {
  const err = await refusal("");
  expect(err.code).toBe(Code.Unauthenticated);
  expect(err.message).toContain("no access key was sent: pass accessKey to createRegistryClient, or set MODELREG_ACCESS_KEY");
  expect(err.message).toContain("MODELREG_ACCESS_KEY=$(cat data/admin.key)");
  // errorDetails() keeps the server's own message apart from the hint.
  const d = errorDetails(err);
  expect(d.message).toMatch(/^this call needs an access key/);
  expect(d.message).not.toContain("hint:");
  expect(d.reason).toBeDefined();
});

it("names the refused key by its id, never its secret", async () => {
  const err = await refusal("AKNOTAKEY0000000.very-secret-part");
  expect(err.code).toBe(Code.Unauthenticated);
  expect(err.message).toContain("the server refused access key AKNOTAKEY0000000");
  expect(err.message).not.toContain("very-secret-part");
  // A malformed token (no dot) is not echoed, not even in part.
  const malformed = await refusal("no-dot-secret-token-value");
  expect(malformed.code).toBe(Code.Unauthenticated);
  expect(malformed.message).not.toContain("no-dot-secret-token");
});

it("does not point a remote server's users at a local file", () => {
  const hint = accessKeyHint({ keyId: undefined, baseUrl: "https://registry.example.com" });
  expect(hint).toBe("no access key was sent: pass accessKey to createRegistryClient, or set MODELREG_ACCESS_KEY");
});
