// Export names and formats as people type them. An export is named
//   workspaces/{w}/models/{m}/versions/{v}/exports/{uid}   (its resource name), or
//   {model}:{version}/{uid}                               (short form, in the client's workspace).
// Formats: "tar", "tar.gz" (also "tgz"), "zip", or the ExportFormat enum.
import { ExportFormat } from "@modelreg/proto";
import { versionName } from "../names.js";

export type ExportFormatName = "tar" | "tar.gz" | "zip";

const FULL_EXPORT = /^workspaces\/[^/]+\/models\/[^/@]+\/versions\/[^/]+\/exports\/[^/]+$/;

/** `fraud:1.0.0/0f1c...` or a full export name -> the export's resource name. */
export function exportName(workspace: string, ref: string): string {
  if (ref.startsWith("workspaces/")) {
    if (!FULL_EXPORT.test(ref)) throw new Error(`"${ref}" is not an export name: use workspaces/{w}/models/{m}/versions/{v}/exports/{uid} or model:version/{uid}`);
    return ref;
  }
  const slash = ref.lastIndexOf("/");
  const uid = ref.slice(slash + 1);
  const version = slash > 0 ? ref.slice(0, slash) : "";
  if (slash < 0 || uid === "" || version.includes("/") || version.includes("@") || !version.includes(":")) {
    throw new Error(`"${ref}" is not an export name: use model:version/{uid} (e.g. fraud-detector:1.0.0/0f1c2d3e-...) or the full name workspaces/{w}/models/{m}/versions/{v}/exports/{uid}`);
  }
  return `${versionName(workspace, version)}/exports/${uid}`;
}

/** The short form `model:version/uid` of an export's resource name (the name itself if it is not one). */
export function shortExportName(name: string): string {
  const m = /^workspaces\/[^/]+\/models\/([^/]+)\/versions\/([^/]+)\/exports\/([^/]+)$/.exec(name);
  return m ? `${m[1]}:${m[2]}/${m[3]}` : name;
}

/** The version an export belongs to: `workspaces/.../versions/{v}`. */
export function exportParent(name: string): string {
  const at = name.lastIndexOf("/exports/");
  return at < 0 ? name : name.slice(0, at);
}

const BY_NAME: Record<string, ExportFormat> = {
  tar: ExportFormat.TAR,
  "tar.gz": ExportFormat.TAR_GZ,
  tgz: ExportFormat.TAR_GZ,
  tar_gz: ExportFormat.TAR_GZ,
  zip: ExportFormat.ZIP,
};

/** "tar" | "tar.gz" | "zip" (or the enum, or its value name such as TAR_GZ) -> ExportFormat. */
export function parseExportFormat(format: ExportFormatName | ExportFormat | string): ExportFormat {
  if (typeof format === "number") {
    if (format === ExportFormat.TAR || format === ExportFormat.TAR_GZ || format === ExportFormat.ZIP) return format;
    throw new Error(`${format} is not an export format: use tar, tar.gz or zip`);
  }
  const f = BY_NAME[format.toLowerCase().replace(/^export_format_/, "")];
  if (f === undefined) throw new Error(`"${format}" is not an export format: use tar, tar.gz or zip`);
  return f;
}

/** ExportFormat -> "tar" | "tar.gz" | "zip" ("-" when unset). */
export function exportFormatName(format: ExportFormat): ExportFormatName | "-" {
  switch (format) {
    case ExportFormat.TAR:
      return "tar";
    case ExportFormat.TAR_GZ:
      return "tar.gz";
    case ExportFormat.ZIP:
      return "zip";
    default:
      return "-";
  }
}
