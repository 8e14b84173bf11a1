// Acknowledged writes survive kill -9 of the server, on both databases.
import { afterAll, expect, it } from "vitest";
import { createRegistryClient } from "@modelreg/sdk";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { startServer, tempDir } from "./support/server.js";

describeEachDatabase("durability", (backend) => {
  const dir = tempDir();
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  afterAll(async () => {
    await db?.drop();
    dir.remove();
  });

  it("keeps every acknowledged write across kill -9 and restart", async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    const first = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
    const client = createRegistryClient({ baseUrl: first.url });
    const parent = (await client.models.createModel({ parent: "workspaces/default", modelId: "durable", model: { description: "before the crash" } })).model!.name;
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) acked.push((await client.versions.createVersion({ parent, version: { labels: { i: String(i) } } })).version!.uid);
    const updated = await client.models.updateModel({ model: { name: parent, description: "updated before the crash" }, updateMask: { paths: ["description"] } });

    const { signal } = await first.stop("SIGKILL");
    expect(signal).toBe("SIGKILL");

    const second = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
    try {
      const again = createRegistryClient({ baseUrl: second.url });
      const model = (await again.models.getModel({ name: parent })).model!;
      expect(model).toMatchObject({ description: "updated before the crash", versionCount: 20n, latestVersion: "1.0.19", etag: updated.model!.etag });
      const uids: string[] = [];
      for await (const v of again.listAllVersions("durable")) uids.push(v.uid);
      expect(uids.sort()).toEqual([...acked].sort());
      // And the server keeps working where it left off.
      expect((await again.versions.createVersion({ parent })).version!.version).toBe("1.0.20");
    } finally {
      await second.stop();
    }
  });
});
