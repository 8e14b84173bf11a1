// The parameter block a task's worker is handed carries the task and the
// data version; versions created through a client made from it record both
// in their lineage unless the call sets them, beside the algorithm. The
// interceptor runs in a real Connect client against an in-memory router.
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { type CreateVersionRequest, VersionService } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { lineageInterceptor, optionsFromParams, parseAlgorithmParams } from "./from-params.js";

const block = {
  _alg_model_params: {
    endPoint: "registry:8080",
    tenant: "team-a",
    userId: "alice",
    algCode: "fraud-xgb",
    algVersion: "2.3.1",
    sourceTask: "workspaces/team-a/tasks/train-1",
    dataVersion: "2026-10",
    model: "workspaces/team-a/models/fraud",
  },
};

/** A VersionService client whose CreateVersion requests, as the server gets them, land in `seen`. */
function recorder(params: Parameters<typeof lineageInterceptor>[0]) {
  const seen: CreateVersionRequest[] = [];
  const transport = createRouterTransport(
    (router) =>
      router.service(VersionService, {
        createVersion(req) {
          seen.push(req);
          return { version: req.version };
        },
      }),
    { transport: { interceptors: [lineageInterceptor(params)] } },
  );
  return { versions: createClient(VersionService, transport), seen };
}

describe("fromParams", () => {
  it("reads the task, data version and model of the block", () => {
    const p = parseAlgorithmParams(JSON.stringify(block));
    expect(p).toMatchObject({ sourceTask: "workspaces/team-a/tasks/train-1", dataVersion: "2026-10", model: "workspaces/team-a/models/fraud", endPoint: "http://registry:8080" });
    // Blocks of before keep working: the new fields are optional.
    const old = parseAlgorithmParams({ _alg_model_params: { endPoint: "http://r", algCode: "x" } });
    expect(old).toMatchObject({ sourceTask: "", dataVersion: "", model: "" });
    expect(optionsFromParams(p).interceptors).toHaveLength(1);
  });

  it("fills lineage.source_task and data_version when the call does not set them", async () => {
    const { versions, seen } = recorder(parseAlgorithmParams(block));
    await versions.createVersion({ parent: "workspaces/team-a/models/fraud" });
    await versions.createVersion({ parent: "workspaces/team-a/models/fraud", version: { description: "epoch 3" } });
    for (const req of seen) {
      expect(req.version?.lineage).toMatchObject({
        sourceTask: "workspaces/team-a/tasks/train-1",
        dataVersion: "2026-10",
        trainingAlgorithmCode: "fraud-xgb",
        trainingAlgorithmVersion: "2.3.1",
      });
    }
    expect(seen[1]!.version!.description).toBe("epoch 3");
  });

  it("keeps what the call sets, and fills the rest each on its own", async () => {
    const { versions, seen } = recorder(parseAlgorithmParams(block));
    const own = { sourceTask: "workspaces/team-a/tasks/other", trainingAlgorithmCode: "hand-made" };
    const request = { parent: "workspaces/team-a/models/fraud", version: { lineage: own } };
    await versions.createVersion(request);
    await versions.createVersion({ parent: "workspaces/team-a/models/fraud", version: { lineage: { dataVersion: "2025-01" } } });
    // The algorithm goes as a pair: a call naming its own code gets no version from the block.
    expect(seen[0]!.version!.lineage).toMatchObject({ sourceTask: "workspaces/team-a/tasks/other", dataVersion: "2026-10", trainingAlgorithmCode: "hand-made", trainingAlgorithmVersion: "" });
    expect(seen[1]!.version!.lineage).toMatchObject({ sourceTask: "workspaces/team-a/tasks/train-1", dataVersion: "2025-01", trainingAlgorithmCode: "fraud-xgb" });
    // The caller's message is left as it was.
    expect(request.version.lineage).toEqual(own);
  });

  it("changes nothing when the block names none of them", async () => {
    const { versions, seen } = recorder(parseAlgorithmParams({ _alg_model_params: { endPoint: "http://r" } }));
    await versions.createVersion({ parent: "workspaces/default/models/m", version: { description: "d" } });
    expect(seen[0]!.version!.lineage).toBeUndefined();
  });
});
