import { create } from "@bufbuild/protobuf";
import { UploadSessionSchema, UploadState } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { chunkSizeFor, sessionFromPutAnswer } from "./upload-session.js";

const session = create(UploadSessionSchema, { name: "workspaces/default/uploads/u1", sizeBytes: 10n, maxChunkBytes: 4n, state: UploadState.ACTIVE, uploadUrl: "/v1/uploads/u1?sig=x" });

describe("chunkSizeFor", () => {
  it("caps the chunk at the server's max_chunk_bytes", () => {
    expect(chunkSizeFor(session, 64 << 20)).toBe(4);
    expect(chunkSizeFor(session, 3)).toBe(3);
    expect(chunkSizeFor(create(UploadSessionSchema, {}), 1000)).toBe(1000);
  });
});

describe("sessionFromPutAnswer", () => {
  it("reads the session as proto JSON", () => {
    const next = sessionFromPutAnswer(session, JSON.stringify({ name: session.name, sizeBytes: "10", committedOffset: "10", state: "UPLOAD_STATE_COMPLETE" }));
    expect(next).toMatchObject({ committedOffset: 10n, state: UploadState.COMPLETE });
  });

  it("accepts the short form and unknown fields", () => {
    const next = sessionFromPutAnswer(session, JSON.stringify({ committedOffset: "4", complete: false, extra: 1 }));
    expect(next).toMatchObject({ name: session.name, committedOffset: 4n, state: UploadState.ACTIVE, uploadUrl: session.uploadUrl });
    expect(sessionFromPutAnswer(session, JSON.stringify({ committedOffset: "10", complete: true })).state).toBe(UploadState.COMPLETE);
  });

  it("refuses an answer that is not JSON", () => {
    expect(() => sessionFromPutAnswer(session, "<html>")).toThrow(/not JSON/);
  });
});
