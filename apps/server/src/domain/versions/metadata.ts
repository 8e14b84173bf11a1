// What a version says about itself beyond its name and files: framework,
// runtime, metrics, interface, dependencies, documents and the rest (the
// rules are stated on each field in proto/modelreg/v1/version.proto and
// version_metadata.proto). Enums are their proto numbers. The checks of
// these fields are in metadata-rules.ts.
import { settleLenient } from "./metadata-rules.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface InterfaceParameter {
  name: string;
  type: number;
  min?: number;
  max?: number;
  description: string;
  /** The API it belongs to, if any. */
  url: string;
  method: string;
  protocol: string;
  /** min and max kept as written on a parameter that is not INT or FLOAT (a ModelArts import). */
  lenient?: boolean;
}
export interface ApiSpec {
  url: string;
  method: string;
  protocol: string;
  inputSchema?: JsonObject;
  outputSchema?: JsonObject;
  /** Schemas kept as written though not valid JSON Schema (a ModelArts import); never for one that names its `$schema`. */
  lenient?: boolean;
}
export interface ModelInterface {
  inputs: InterfaceParameter[];
  outputs: InterfaceParameter[];
  apis: ApiSpec[];
}
export interface Package {
  name: string;
  version: string;
  restraint: number;
}
export interface Dependency {
  installer: number;
  packages: Package[];
}
export interface Document {
  name: string;
  url: string;
}
export interface ProcessingCode {
  language: string;
  preprocessing: string;
  postprocessing: string;
  location: string;
}
export interface VersionTemplate {
  id: string;
  inferFormat: string;
  inputs: Record<string, string>;
}

/** The metadata kept in columns (filterable) and in the metadata JSON. */
export interface VersionMetadata {
  framework: number;
  runtime: string;
  algorithm: string;
  installTypes: number[];
  metrics: Record<string, number>;
  preprocessingParameters?: JsonObject;
  processingCode?: ProcessingCode;
  interface?: ModelInterface;
  dependencies: Dependency[];
  documents: Document[];
  readme: string;
  template?: VersionTemplate;
  initialConfig: string;
}

export const EMPTY_METADATA: VersionMetadata = {
  framework: 0,
  runtime: "",
  algorithm: "",
  installTypes: [],
  metrics: {},
  dependencies: [],
  documents: [],
  readme: "",
  initialConfig: "",
};

/** The fields UpdateVersion may name, beyond description and labels. */
export const METADATA_FIELDS = [
  "framework",
  "runtime",
  "algorithm",
  "install_types",
  "metrics",
  "preprocessing_parameters",
  "processing_code",
  "interface",
  "dependencies",
  "documents",
  "readme",
  "template",
  "initial_config",
] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

/** proto field name -> domain key. */
export const METADATA_KEY: Record<MetadataField, keyof VersionMetadata> = {
  framework: "framework",
  runtime: "runtime",
  algorithm: "algorithm",
  install_types: "installTypes",
  metrics: "metrics",
  preprocessing_parameters: "preprocessingParameters",
  processing_code: "processingCode",
  interface: "interface",
  dependencies: "dependencies",
  documents: "documents",
  readme: "readme",
  template: "template",
  initial_config: "initialConfig",
};

/** Columns of their own; the rest goes into the metadata JSON. */
export function splitMetadata(m: VersionMetadata) {
  const { framework, runtime, algorithm, metrics, ...rest } = m;
  return { framework, runtime, algorithm, metrics, metadata: rest as unknown as Record<string, unknown> };
}

export function joinMetadata(row: { framework: number; runtime: string; algorithm: string; metrics: Record<string, number>; metadata: Record<string, unknown> }): VersionMetadata {
  return { ...EMPTY_METADATA, ...(row.metadata as Partial<VersionMetadata>), framework: row.framework, runtime: row.runtime, algorithm: row.algorithm, metrics: row.metrics };
}

/** Normal forms stored: upper-case HTTP methods, lower-case protocols, `lenient` only where it kept something (settleLenient). */
export function normalizeMetadata(m: VersionMetadata): VersionMetadata {
  if (!m.interface) return m;
  const route = <T extends { method: string; protocol: string }>(r: T): T => ({ ...r, method: r.method.toUpperCase(), protocol: r.protocol.toLowerCase() });
  const i = settleLenient(m.interface);
  return { ...m, interface: { inputs: i.inputs.map(route), outputs: i.outputs.map(route), apis: i.apis.map(route) } };
}
