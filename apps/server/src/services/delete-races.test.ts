// Writes racing deletes of what they write into, on both databases: the
// write answers OK (it got in first, and the delete took it along) or
// NOT_FOUND (the delete got in first), never INTERNAL. PGlite runs one
// transaction at a time, so there the races are tame; on PostgreSQL the
// write's insert can meet a parent row deleted since it was read, and its
// foreign key refuses it.
import { createHash, randomBytes } from "node:crypto";
import { Code, ConnectError, ExportFormat, Role } from "@modelreg/sdk";
import { describeEachDatabase } from "@modelreg/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../testing/test-app.js";
import { EMPTY_SHA256 } from "../domain/files/index.js";

const sha256Of = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Rounds per race: enough for the two calls to overlap many times, bounded so the suite stays short. */
const ROUNDS = 50;

/** What a call answered: "OK", or its error's code name. */
async function answerOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    return Code[e.code];
  }
}

/** Runs `rounds` races one after another; returns how often each side answered what. */
async function race(rounds: number, round: (i: number) => Promise<{ write: Promise<unknown>; remove: Promise<unknown> }>) {
  const writes: Record<string, number> = {};
  const removes: Record<string, number> = {};
  for (let i = 0; i < rounds; i++) {
    const { write, remove } = await round(i);
    const [w, r] = await Promise.all([answerOf(write), answerOf(remove)]);
    writes[w] = (writes[w] ?? 0) + 1;
    removes[r] = (removes[r] ?? 0) + 1;
  }
  return { writes, removes };
}

/** Every answer of the write OK or NOT_FOUND; every delete OK. */
function expectClean(result: { writes: Record<string, number>; removes: Record<string, number> }) {
  expect(Object.entries(result.writes).filter(([k]) => k !== "OK" && k !== "NotFound")).toEqual([]);
  expect(Object.keys(result.removes)).toEqual(["OK"]);
}

describeEachDatabase("writes racing deletes", (kind) => {
  let t: TestApp;
  const ws = "workspaces/default";
  beforeAll(async () => {
    // A limit on uploads in flight, so a test can see when one is under way.
    t = await createTestApp(kind, { uploadsPerKey: 4 });
  }, 60_000);
  afterAll(async () => t?.close());

  /** A fresh model with one version (1.0.0), READY with one empty file when `ready`. */
  async function modelWithVersion(id: string, ready = false) {
    const model = `${ws}/models/${id}`;
    await t.client.models.createModel({ parent: ws, modelId: id });
    const { version } = await t.client.versions.createVersion({ parent: model, versionId: "1.0.0" });
    if (ready) {
      await t.client.files.stageVersionFiles({ name: version!.name, files: [{ path: "empty.txt", sizeBytes: 0n, sha256: EMPTY_SHA256 }] });
      await t.client.files.commitVersionFiles({ name: version!.name });
    }
    return { model, version: version!.name };
  }

  it("SetAlias racing DeleteVersion answers OK or NOT_FOUND", async () => {
    const result = await race(ROUNDS, async (i) => {
      const { model, version } = await modelWithVersion(`alias-v-${i}`);
      return {
        write: t.client.models.setAlias({ model, alias: "prod", version: "1.0.0" }),
        remove: t.client.versions.deleteVersion({ name: version }),
      };
    });
    expectClean(result);
  });

  it("SetAlias racing a forced DeleteModel answers OK or NOT_FOUND", async () => {
    const result = await race(ROUNDS, async (i) => {
      const { model } = await modelWithVersion(`alias-m-${i}`);
      return {
        write: t.client.models.setAlias({ model, alias: "prod", version: "1.0.0" }),
        remove: t.client.models.deleteModel({ name: model, force: true }),
      };
    });
    expectClean(result);
  });

  it("CreateAccessKey and RotateAccessKey racing DeleteWorkspace answer OK or NOT_FOUND", async () => {
    const created = await race(ROUNDS, async (i) => {
      const id = `keys-c-${i}`;
      await t.client.workspaces.createWorkspace({ workspaceId: id });
      return {
        write: t.client.workspaces.createAccessKey({ parent: `workspaces/${id}`, accessKey: { user: "u", role: Role.EDITOR } }),
        remove: t.client.workspaces.deleteWorkspace({ name: `workspaces/${id}` }),
      };
    });
    expectClean(created);
    const rotated = await race(ROUNDS, async (i) => {
      const id = `keys-r-${i}`;
      await t.client.workspaces.createWorkspace({ workspaceId: id });
      const { accessKey } = await t.client.workspaces.createAccessKey({ parent: `workspaces/${id}`, accessKey: { user: "u", role: Role.EDITOR } });
      return {
        write: t.client.workspaces.rotateAccessKey({ name: accessKey!.name }),
        remove: t.client.workspaces.deleteWorkspace({ name: `workspaces/${id}` }),
      };
    });
    expectClean(rotated);
  });

  it("CreateVersion racing a forced DeleteModel answers OK or NOT_FOUND, named and auto-numbered", async () => {
    const result = await race(ROUNDS, async (i) => {
      const { model } = await modelWithVersion(`create-v-${i}`);
      return {
        write: Promise.all([t.client.versions.createVersion({ parent: model, versionId: "2.0.0" }), t.client.versions.createVersion({ parent: model })]),
        remove: t.client.models.deleteModel({ name: model, force: true }),
      };
    });
    expectClean(result);
  });

  it("StageVersionFiles, CommitVersionFiles and CreateExport racing DeleteVersion answer OK or NOT_FOUND", async () => {
    const staged = await race(ROUNDS, async (i) => {
      const { version } = await modelWithVersion(`stage-${i}`);
      const files = [{ path: "a.bin", sizeBytes: 3n, sha256: "a".repeat(64) }, { path: "empty.txt", sizeBytes: 0n, sha256: EMPTY_SHA256 }];
      return { write: t.client.files.stageVersionFiles({ name: version, files }), remove: t.client.versions.deleteVersion({ name: version }) };
    });
    expectClean(staged);
    const committed = await race(ROUNDS, async (i) => {
      const { version } = await modelWithVersion(`commit-${i}`);
      await t.client.files.stageVersionFiles({ name: version, files: [{ path: "empty.txt", sizeBytes: 0n, sha256: EMPTY_SHA256 }] });
      return { write: t.client.files.commitVersionFiles({ name: version }), remove: t.client.versions.deleteVersion({ name: version }) };
    });
    expectClean(committed);
    const exported = await race(ROUNDS, async (i) => {
      const { version } = await modelWithVersion(`export-${i}`, true);
      return { write: t.client.exports.createExport({ parent: version, format: ExportFormat.TAR }), remove: t.client.versions.deleteVersion({ name: version }) };
    });
    expectClean(exported);
    // Three races of ROUNDS rounds each: under a loaded CI machine this takes longer than one call's hang guard.
  }, 90_000);

  it("answers NOT_FOUND to an upload whose workspace was deleted while its bytes came in", async () => {
    await t.client.workspaces.createWorkspace({ workspaceId: "gone-mid-upload" });
    const model = "workspaces/gone-mid-upload/models/m";
    await t.client.models.createModel({ parent: "workspaces/gone-mid-upload", modelId: "m" });
    const { version } = await t.client.versions.createVersion({ parent: model, versionId: "1.0.0" });
    const data = randomBytes(1000);
    const { files } = await t.client.files.stageVersionFiles({ name: version!.name, files: [{ path: "w.bin", sizeBytes: 1000n, sha256: sha256Of(data) }] });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const upload = answerOf(
      t.client.files.writeUpload(
        (async function* () {
          yield { name: files[0]!.upload!.name, offset: 0n, data: data.subarray(0, 500) };
          await gate;
          yield { data: data.subarray(500) };
        })(),
      ),
    );
    // The server has found the session and holds an upload slot: it is taking the bytes.
    while (t.app.uploadsInFlight("") === 0) await new Promise((r) => setTimeout(r, 10));
    await t.client.models.deleteModel({ name: model, force: true });
    await t.client.workspaces.deleteWorkspace({ name: "workspaces/gone-mid-upload" });
    release();
    expect(await upload).toBe("NotFound");
  });
});
