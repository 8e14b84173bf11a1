// Transfers with access keys on: the signed URLs carry their own
// authority (no key is sent to them), the RPCs need the key's role.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Role, VersionState } from "@modelreg/proto";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../errors.js";
import { newVersion, patterned, tempDir } from "../testing/fixtures.js";

let server: TestServer;
let tmp: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  server = await startTestServer("pglite", { auth: true });
  tmp = await tempDir("sdk-auth");
}, 60_000);
afterAll(async () => {
  await server?.close();
  await tmp?.remove();
});

async function key(role: Role): Promise<string> {
  const res = await server.client.workspaces.createAccessKey({ parent: "workspaces/default", accessKey: { user: `u${role}`, role } });
  return res.token;
}

describe("with access keys", () => {
  it("lets an editor upload and a viewer download, over both byte paths", async () => {
    const editor = server.clientWith(await key(Role.EDITOR));
    const viewer = server.clientWith(await key(Role.VIEWER));
    const data = patterned(300_000, 7);
    const src = join(tmp.path, "model.bin");
    await writeFile(src, data);
    for (const transport of ["http", "stream"] as const) {
      const version = await newVersion(server.client);
      const ready = await editor.uploadFile(version, src, { transport, chunkBytes: 100_000, overwrite: true });
      expect(ready.state).toBe(VersionState.READY);
      const got = await viewer.downloadBytes(version, "model.bin", { transport });
      expect(Buffer.compare(Buffer.from(got), data)).toBe(0);
      await expect(viewer.uploadFile(version, src, { transport, overwrite: true })).rejects.toMatchObject({ code: Code.PermissionDenied });
    }
  });

  it("refuses a client without a key before any byte moves", async () => {
    const anonymous = server.clientWith("");
    const version = await newVersion(server.client);
    await writeFile(join(tmp.path, "x.bin"), "x");
    await expect(anonymous.uploadFile(version, join(tmp.path, "x.bin"))).rejects.toMatchObject({ code: Code.Unauthenticated });
  });
});
