// The modelreg side of `bench transfer`: versions created over the SDK, files
// moved with the SDK's uploadFile / downloadToFile (transport "http": plain
// HTTP PUT/GET URLs; "stream": FileService.WriteUpload / ReadFile).
import { createClient } from "@connectrpc/connect";
import { createRegistryClient, createTransport, FileService, type RegistryClient } from "@modelreg/sdk";

export type Transport = "http" | "stream";

export interface ModelregCases {
  /** A new version (resource name) of the bench model, with no files. */
  newVersion(): Promise<string>;
  /** uploadFile; the sha256 the READY version records, and the transfer time alone when the SDK reports its phases. */
  upload(version: string, src: string, transport: Transport): Promise<{ sha256: string; transferSeconds?: number }>;
  /** Which version `download` reads for this transport. */
  remember(transport: Transport, version: string): void;
  /** downloadToFile into `dst`. */
  download(transport: Transport, dst: string): Promise<void>;
  close(): void;
}

/** The file's path inside each version. */
const FILE_PATH = "model.bin";

// The SDK functions as the brief gives them; typed loosely until they land
// in @modelreg/sdk.
interface FileTransfers {
  uploadFile(version: string, localPath: string, options: { transport: Transport; onProgress?: (p: unknown) => void }): Promise<unknown>;
  downloadToFile(version: string, path: string, target: string, options: { transport: Transport }): Promise<unknown>;
}

/** Why the modelreg cases cannot run yet, or undefined when they can. */
export function modelregMissing(): string | undefined {
  const c = createRegistryClient({ baseUrl: "http://127.0.0.1:1" }) as RegistryClient & Partial<FileTransfers>;
  if (typeof c.uploadFile !== "function" || typeof c.downloadToFile !== "function") return "@modelreg/sdk has no uploadFile/downloadToFile yet";
  return undefined;
}

export async function createModelregCases(baseUrl: string, accessKey: string): Promise<ModelregCases> {
  const registry = createRegistryClient({ baseUrl, accessKey }) as RegistryClient & FileTransfers;
  const modelId = `bench-transfer-${Date.now().toString(36)}`;
  const { model } = await registry.models.createModel({ parent: "workspaces/default", modelId });
  const files = createClient(FileService, createTransport({ baseUrl, accessKey }));
  const versions = new Map<Transport, string>();
  return {
    async newVersion() {
      const { version } = await registry.versions.createVersion({ parent: model!.name });
      return version!.name;
    },
    async upload(version, src, transport) {
      await registry.uploadFile(version, src, { transport });
      const listed = await files.listVersionFiles({ version: { case: "name", value: version } });
      return { sha256: listed.files.find((f) => f.path === FILE_PATH)?.sha256 ?? "" };
    },
    remember(transport, version) {
      versions.set(transport, version);
    },
    async download(transport, dst) {
      const version = versions.get(transport);
      if (!version) throw new Error(`no ${transport} upload to download`);
      await registry.downloadToFile(version, FILE_PATH, dst, { transport });
    },
    close() {},
  };
}
