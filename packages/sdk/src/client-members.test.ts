// The raw service clients and the helpers stay apart: no helper of the
// client shares a name with an RPC of any service (a helper and an RPC of
// the same name that behave differently is what this guards against).
import { ExportService, FileService, ModelService, TaskService, TaskWorkerService, VersionService, WorkspaceService } from "@modelreg/proto";
import { expect, it } from "vitest";
import { createRegistryClient } from "./client.js";

it("names no helper like an RPC", () => {
  const client = createRegistryClient({ baseUrl: "http://127.0.0.1:1", accessKey: "" });
  const services = [ModelService, VersionService, FileService, ExportService, WorkspaceService, TaskService, TaskWorkerService];
  const rpcs = new Set(services.flatMap((s) => s.methods.map((m) => m.localName)));
  const raw = new Set(["models", "versions", "files", "exports", "workspaces", "tasks", "taskWorkers"]);
  const helpers = Object.keys(client).filter((k) => !raw.has(k));
  expect(helpers.filter((h) => rpcs.has(h))).toEqual([]);
  expect(helpers).toContain("startExport");
  expect(helpers).toEqual(expect.arrayContaining(["submitTask", "followTask", "waitForTask", "runWorker", "listAllTasks", "listAllWorkers", "taskName"]));
  for (const k of raw) expect(Object.keys(client)).toContain(k);
});
