// The rules of exports, without a database: formats, the state machine,
// names and the archive's file name.
import { ExportFormat, ExportState } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../shared/errors.js";
import { archiveFileName, checkCancellable, checkCreateFormat, checkLatestFormat, checkList, isLive, mayMove, parseExportName } from "./rules.js";
import { violationsOf } from "../../testing/violations.js";

const { PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED } = ExportState;
const UID = "0b5c2a3e-6f1d-4c5e-9a7b-1c2d3e4f5a6b";


describe("states", () => {
  it("are live while PENDING or RUNNING", () => {
    expect([PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED].map(isLive)).toEqual([true, true, false, false, false]);
  });

  it("move only along the export's lifecycle", () => {
    const all = [PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED];
    const moves = all.flatMap((from) => all.filter((to) => mayMove(from, to)).map((to) => `${ExportState[from]}>${ExportState[to]}`));
    expect(moves).toEqual([
      "PENDING>RUNNING",
      "PENDING>FAILED",
      "PENDING>CANCELLED",
      "RUNNING>PENDING",
      "RUNNING>RUNNING",
      "RUNNING>SUCCEEDED",
      "RUNNING>FAILED",
      "RUNNING>CANCELLED",
    ]);
  });

  it("let only a live export be cancelled, naming the state it is in", () => {
    expect(() => checkCancellable("e", PENDING)).not.toThrow();
    expect(() => checkCancellable("e", RUNNING)).not.toThrow();
    const err = (() => {
      try {
        checkCancellable("workspaces/w/models/m/versions/1/exports/x", SUCCEEDED);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect((err as FailedPreconditionError).reason).toBe("EXPORT_FINISHED");
    expect((err as Error).message).toBe("workspaces/w/models/m/versions/1/exports/x is SUCCEEDED already; only a PENDING or RUNNING export can be cancelled");
  });
});

describe("formats", () => {
  it("are required on create and must be one the contract names", () => {
    expect(violationsOf(() => checkCreateFormat(ExportFormat.ZIP))).toEqual([]);
    expect(violationsOf(() => checkCreateFormat(0))).toEqual([{ field: "format", description: "is required: use TAR, TAR_GZ or ZIP" }]);
    expect(violationsOf(() => checkCreateFormat(9))).toEqual([{ field: "format", description: "9 is not a format: use TAR, TAR_GZ or ZIP" }]);
  });

  it("may be left unset when asking for the latest export", () => {
    expect(violationsOf(() => checkLatestFormat(0))).toEqual([]);
    expect(violationsOf(() => checkLatestFormat(ExportFormat.TAR_GZ))).toEqual([]);
    expect(violationsOf(() => checkLatestFormat(9))).toEqual([{ field: "format", description: "9 is not a format: use TAR, TAR_GZ or ZIP, or leave it unset for any" }]);
  });
});

describe("names", () => {
  it("parse into the version's name and a lower-case uid", () => {
    const n = parseExportName("name", `workspaces/w/models/m/versions/1.0.0/exports/${UID.toUpperCase()}`);
    expect(n).toEqual({ version: expect.objectContaining({ workspace: "w", model: "m", version: "1.0.0" }), id: UID });
  });

  it("refuse other shapes and ids that are not UUIDs", () => {
    expect(violationsOf(() => parseExportName("name", ""))[0]!.description).toMatch(/^is required: expected workspaces\/\{workspace\}/);
    expect(violationsOf(() => parseExportName("name", "workspaces/w/models/m/versions/1.0.0"))[0]!.description).toMatch(/is not a valid name/);
    expect(violationsOf(() => parseExportName("name", "workspaces/w/models/m/versions/1.0.0/exports/abc"))[0]!.description).toMatch(/^"abc" is not an export id \(a UUID\)/);
  });
});

describe("lists", () => {
  it("name a model's every version with versions/-", () => {
    expect(checkList("workspaces/w/models/m/versions/-", { pageSize: 0, pageToken: "", filter: "" })).toEqual({
      limit: 50,
      expr: expect.anything(),
      model: expect.objectContaining({ workspace: "w", model: "m" }),
    });
    expect(checkList("workspaces/w/models/m/versions/1", { pageSize: 5, pageToken: "", filter: "" }).model).toBeUndefined();
  });

  it("collect every bad argument", () => {
    expect(violationsOf(() => checkList("nope/versions/-", { pageSize: -1, pageToken: "", filter: "" })).map((v) => v.field)).toEqual(["page_size", "parent"]);
  });
});

it("names the archive after the model and the version", () => {
  expect(archiveFileName({ model: "workspaces/w/models/fraud", version: "1.2.0" }, ".tar.gz")).toBe("fraud-1.2.0.tar.gz");
});
