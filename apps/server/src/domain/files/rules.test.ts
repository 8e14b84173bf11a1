// The rules of files and uploads, without a database.
import { createHash } from "node:crypto";
import { VersionState } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { ChecksumMismatchError } from "../ports/blob-store-errors.js";
import { FailedPreconditionError, InvalidArgumentError } from "../shared/errors.js";
import {
  checkDeclaredSize,
  checkFilePath,
  checkFiles,
  checkHeldSizes,
  checkListArgs,
  checkMayStage,
  checkOffset,
  checkUid,
  ChunkTooLargeError,
  contentSizes,
  EMPTY_MD5,
  EMPTY_SHA256,
  MAX_FILE_BYTES,
  MAX_FILES_PER_VERSION,
  overflowError,
  parseUploadSessionName,
  requireReady,
  requireStaged,
  requireStoredSizes,
  requireUploaded,
  staleSessions,
  UploadRestartedError,
  uploadRoom,
} from "./rules.js";
import { violationsOf } from "../../testing/violations.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const file = (path: string, body = "x", mediaType = "") => ({ path, size: body.length, sha256: sha(body), mediaType });
const NAME = "workspaces/w/models/m/versions/1.0.0";


function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof FailedPreconditionError) return e.reason;
    throw e;
  }
  return undefined;
}

it("knows the digests of empty content", () => {
  expect(EMPTY_SHA256).toBe(sha(""));
  expect(EMPTY_MD5).toBe(createHash("md5").update("").digest("hex"));
});

describe("checkFiles", () => {
  it("normalizes paths and picks a media type from the extension when none is given", () => {
    expect(checkFiles([file("./a/config.json", "{}"), file("w.bin", "x", "application/x-custom")])).toEqual([
      { path: "a/config.json", size: 2, sha256: sha("{}"), mediaType: "application/json" },
      { path: "w.bin", size: 1, sha256: sha("x"), mediaType: "application/x-custom" },
    ]);
  });

  it("names every bad field at once", () => {
    const bad = [
      { path: "../up", size: 1, sha256: sha("x"), mediaType: "" },
      { path: "a", size: -1, sha256: "ABC", mediaType: "not a type" },
      { path: "b", size: MAX_FILE_BYTES + 1, sha256: sha("x"), mediaType: "" },
      { path: "c", size: 0, sha256: sha("x"), mediaType: "text/plain\n" },
    ];
    expect(violationsOf(() => checkFiles(bad)).map((v) => v.field)).toEqual([
      "files[0].path",
      "files[1].size_bytes",
      "files[1].sha256",
      "files[1].media_type",
      "files[2].size_bytes",
      "files[3].sha256",
      "files[3].media_type",
    ]);
  });

  it("refuses an empty file with another digest than the empty one", () => {
    expect(violationsOf(() => checkFiles([{ path: "e", size: 0, sha256: sha("x"), mediaType: "" }]))[0]!.description).toBe(
      `an empty file's sha256 is ${EMPTY_SHA256}, not ${sha("x")}`,
    );
    expect(checkFiles([{ path: "e", size: 0, sha256: EMPTY_SHA256, mediaType: "" }])).toHaveLength(1);
  });

  it("holds at most MAX_FILES_PER_VERSION files", () => {
    const many = Array.from({ length: MAX_FILES_PER_VERSION + 1 }, (_, i) => file(`f${i}`));
    expect(violationsOf(() => checkFiles(many))).toEqual([{ field: "files", description: `has ${MAX_FILES_PER_VERSION + 1} files; a manifest holds at most ${MAX_FILES_PER_VERSION}` }]);
  });
});

describe("contentSizes", () => {
  it("maps each distinct content to its size", () => {
    expect([...contentSizes([file("a", "xy"), file("b", "xy"), file("c", "z")])]).toEqual([
      [sha("xy"), 2],
      [sha("z"), 1],
    ]);
  });

  it("refuses one content declared with two sizes", () => {
    expect(violationsOf(() => contentSizes([file("a", "xy"), { ...file("b", "xy"), size: 3 }]))[0]!.field).toBe("files[1].size_bytes");
  });
});

describe("sizes of content the workspace holds", () => {
  it("refuses every file declared with another size than its held content's, naming the stored size", () => {
    const held = new Map([[sha("xy"), 2]]);
    expect(violationsOf(() => checkHeldSizes([file("a", "xy"), file("b", "z")], held))).toEqual([]);
    const wrong = [file("a", "z"), { ...file("b", "xy"), size: 3 }, { ...file("c", "xy"), size: MAX_FILE_BYTES }];
    expect(violationsOf(() => checkHeldSizes(wrong, held))).toEqual([
      { field: "files[1].size_bytes", description: `3 is not the size of the content with sha256 ${sha("xy")}: the workspace holds it, stored as 2 bytes` },
      { field: "files[2].size_bytes", description: expect.stringMatching(/^1099511627776 is not .* stored as 2 bytes$/) },
    ]);
  });

  it("drops sessions for content no longer missing or now declared with another size", () => {
    const sessions = [
      { id: "keep", sha256: sha("a"), size: 1 },
      { id: "held-now", sha256: sha("b"), size: 1 },
      { id: "resized", sha256: sha("c"), size: 3 },
    ];
    const missing = new Map([
      [sha("a"), 1],
      [sha("c"), 1],
      [sha("d"), 1],
    ]);
    expect(staleSessions(sessions, missing).map((s) => s.id)).toEqual(["held-now", "resized"]);
  });

  it("commits only staged sizes that are the stored sizes, naming the first five that are not", () => {
    const draft = ["a", "b", "c", "d", "e", "f"].map((p) => ({ path: p, size: 1, sha256: sha(p) }));
    expect(reasonOf(() => requireStoredSizes(NAME, draft, new Map(draft.map((f) => [f.sha256, 1]))))).toBeUndefined();
    try {
      requireStoredSizes(NAME, draft, new Map(draft.map((f) => [f.sha256, f.path === "a" ? 1 : 8])));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FailedPreconditionError);
      const err = e as FailedPreconditionError;
      expect([err.reason, err.metadata]).toEqual(["SIZE_MISMATCH", { resource: NAME, mismatched_files: "5" }]);
      expect(err.message).toContain("(b: 1 bytes staged, its content is 8; c: ");
      expect(err.message).toContain("f: 1 bytes staged, its content is 8); stage the files again with their true sizes");
    }
  });
});

describe("the version's state", () => {
  it("stages a READY version's files only with overwrite", () => {
    expect(reasonOf(() => checkMayStage(NAME, VersionState.READY, false))).toBe("VERSION_READY");
    expect(reasonOf(() => checkMayStage(NAME, VersionState.READY, true))).toBeUndefined();
    expect(reasonOf(() => checkMayStage(NAME, VersionState.PENDING, false))).toBeUndefined();
  });

  it("commits only a staged draft", () => {
    expect(reasonOf(() => requireStaged(NAME, false))).toBe("NOTHING_STAGED");
    expect(reasonOf(() => requireStaged(NAME, true))).toBeUndefined();
  });

  it("commits only when every staged content is held, naming the first five missing", () => {
    const draft = ["a", "b", "c", "d", "e", "f"].map((p) => ({ path: p, sha256: sha(p) }));
    expect(reasonOf(() => requireUploaded(NAME, draft, new Set(draft.map((f) => f.sha256))))).toBeUndefined();
    try {
      requireUploaded(NAME, draft, new Set([sha("a")]));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FailedPreconditionError);
      expect((e as FailedPreconditionError).reason).toBe("UPLOADS_INCOMPLETE");
      expect((e as FailedPreconditionError).message).toContain("5 staged file(s) of");
      expect((e as FailedPreconditionError).message).toContain("(b, c, d, e, f)");
      expect((e as FailedPreconditionError).metadata).toEqual({ resource: NAME, missing_files: "5" });
    }
    expect(() => requireUploaded(NAME, draft, new Set())).toThrow("(a, b, c, d, e, ...)");
  });

  it("reads only a READY version's files", () => {
    expect(reasonOf(() => requireReady(NAME, VersionState.PENDING))).toBe("VERSION_PENDING");
    expect(reasonOf(() => requireReady(NAME, VersionState.READY))).toBeUndefined();
  });
});

describe("reading arguments", () => {
  it("takes a version uid as a UUID, lowercased", () => {
    expect(checkUid("0190D5E2-AAAA-7BBB-8CCC-123456789ABC")).toBe("0190d5e2-aaaa-7bbb-8ccc-123456789abc");
    expect(violationsOf(() => checkUid("not-a-uuid"))[0]!.field).toBe("uid");
  });

  it("lists 1,000 files by default, at most 10,000, narrowed to one normalized path", () => {
    expect(checkListArgs(0, "")).toEqual({ limit: 1000, only: undefined });
    expect(checkListArgs(50_000, "./a/b")).toEqual({ limit: 10_000, only: "a/b" });
    expect(violationsOf(() => checkListArgs(-1, "/abs")).map((v) => v.field)).toEqual(["page_size", "path"]);
  });

  it("reads one file by its normalized path", () => {
    expect(checkFilePath("a/./b")).toBe("a/b");
    expect(violationsOf(() => checkFilePath(""))[0]!.field).toBe("path");
  });
});

describe("uploads", () => {
  it("parses an upload session's name", () => {
    expect(parseUploadSessionName("name", "workspaces/w-1/uploads/abc123")).toEqual({ workspace: "w-1", id: "abc123" });
    for (const bad of ["", "workspaces/w/uploads/a-b", "workspaces/W/uploads/a", "workspaces/w/versions/a", "workspaces/w/uploads/a/b"])
      expect(violationsOf(() => parseUploadSessionName("upload", bad))[0]!.field).toBe("upload");
    expect(violationsOf(() => parseUploadSessionName("name", ""))[0]!.description).toMatch(/^is required/);
  });

  it("writes from a whole byte offset, with the session's size if one is declared", () => {
    expect(violationsOf(() => checkOffset(0))).toEqual([]);
    expect(violationsOf(() => checkOffset(-1))[0]!.field).toBe("offset");
    expect(violationsOf(() => checkOffset(1.5))[0]!.field).toBe("offset");
    expect(violationsOf(() => checkDeclaredSize(undefined, 10))).toEqual([]);
    expect(violationsOf(() => checkDeclaredSize(10, 10))).toEqual([]);
    expect(violationsOf(() => checkDeclaredSize(9, 10))[0]!.field).toBe("size_bytes");
  });

  it("lets one write carry the rest of the content, at most one chunk", () => {
    expect(uploadRoom(100, 40, 1000)).toBe(60);
    expect(uploadRoom(10_000, 0, 1000)).toBe(1000);
    expect(overflowError(100, 40, 1000)).not.toBeInstanceOf(ChunkTooLargeError);
    expect(overflowError(100, 40, 1000).violations[0]!.description).toBe("the upload is 100 bytes, but more than 60 bytes were sent from offset 40");
    expect(overflowError(10_000, 0, 1000)).toBeInstanceOf(ChunkTooLargeError);
    expect(overflowError(10_000, 0, 1000).violations[0]).toMatchObject({ field: "data" });
  });

  it("tells a client whose content did not match to start over", () => {
    const err = new UploadRestartedError(new ChecksumMismatchError({ sha256: sha("a") }, { sha256: sha("b"), size: 1 }), "workspaces/w/uploads/u");
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.violations[0]!.field).toBe("sha256");
    expect(err.violations[0]!.description).toMatch(/Upload workspaces\/w\/uploads\/u starts over: send the content again from offset 0$/);
  });
});
