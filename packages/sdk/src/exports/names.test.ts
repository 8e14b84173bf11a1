import { ExportFormat } from "@modelreg/proto";
import { describe, expect, it } from "vitest";
import { exportFormatName, exportName, exportParent, parseExportFormat, shortExportName } from "./names.js";

const FULL = "workspaces/w/models/fraud/versions/1.0.0/exports/0f1c2d3e-0000-4000-8000-000000000001";

describe("export names", () => {
  it("expands model:version/uid in the workspace and passes full names through", () => {
    expect(exportName("w", "fraud:1.0.0/0f1c2d3e-0000-4000-8000-000000000001")).toBe(FULL);
    expect(exportName("other", FULL)).toBe(FULL);
    expect(shortExportName(FULL)).toBe("fraud:1.0.0/0f1c2d3e-0000-4000-8000-000000000001");
    expect(exportParent(FULL)).toBe("workspaces/w/models/fraud/versions/1.0.0");
  });

  it("refuses what is not an export", () => {
    for (const bad of ["fraud", "fraud:1.0.0", "fraud:1.0.0/", "fraud@prod/abc", "fraud/abc", "a/b:1/c", "workspaces/w/models/fraud/versions/1.0.0", "workspaces/w/models/fraud@prod/exports/x"]) {
      expect(() => exportName("w", bad), bad).toThrow(/is not an export name/);
    }
  });
});

describe("export formats", () => {
  it("reads names, value names and enum values; writes names", () => {
    expect(parseExportFormat("tar")).toBe(ExportFormat.TAR);
    expect(parseExportFormat("tar.gz")).toBe(ExportFormat.TAR_GZ);
    expect(parseExportFormat("tgz")).toBe(ExportFormat.TAR_GZ);
    expect(parseExportFormat("TAR_GZ")).toBe(ExportFormat.TAR_GZ);
    expect(parseExportFormat("EXPORT_FORMAT_ZIP")).toBe(ExportFormat.ZIP);
    expect(parseExportFormat(ExportFormat.ZIP)).toBe(ExportFormat.ZIP);
    expect(() => parseExportFormat("rar")).toThrow(/use tar, tar.gz or zip/);
    expect(() => parseExportFormat(ExportFormat.UNSPECIFIED)).toThrow(/not an export format/);
    expect([ExportFormat.TAR, ExportFormat.TAR_GZ, ExportFormat.ZIP, ExportFormat.UNSPECIFIED].map(exportFormatName)).toEqual(["tar", "tar.gz", "zip", "-"]);
  });
});
