// The modelreg side of `bench transfer`: versions created over the SDK, files
// moved with the SDK's uploadFile / downloadToFile (transport "http": plain
// HTTP PUT/GET URLs; "stream": FileService.WriteUpload / ReadFile).
import { createRegistryClient } from "@modelreg/sdk";

export type Transport = "http" | "stream";

export interface ModelregCases {
  /** A new version (resource name) of the bench model, with no files. */
  newVersion(): Promise<string>;
  /** uploadFile; the sha256 the READY version records, and the transfer time alone when the SDK reports its phases. */
  upload(version: string, src: string, transport: Transport): Promise<{ sha256: string; transferSeconds?: number }>;
  /**
   * Waits until the server has computed the md5 of the version's file (its
   * background job after an upload of new content), so that work does not
   * run into the next case; resolves false after `timeoutMs` without it.
   */
  settle(version: string, timeoutMs: number): Promise<boolean>;
  /** Which version `download` reads for this transport. */
  remember(transport: Transport, version: string): void;
  /** downloadToFile into `dst`; the time until the last byte was written, when the SDK reports progress. */
  download(transport: Transport, dst: string): Promise<number | undefined>;
  close(): void;
}

/** The file's path inside each version. */
const FILE_PATH = "model.bin";

export async function createModelregCases(baseUrl: string, accessKey: string): Promise<ModelregCases> {
  const registry = createRegistryClient({ baseUrl, accessKey });
  const modelId = `bench-transfer-${Date.now().toString(36)}`;
  const { model } = await registry.models.createModel({ parent: "workspaces/default", modelId });
  const versions = new Map<Transport, string>();
  const fileOf = async (version: string) =>
    (await registry.files.listVersionFiles({ version: { case: "name", value: version } })).files.find((f) => f.path === FILE_PATH);
  return {
    async newVersion() {
      const { version } = await registry.versions.createVersion({ parent: model!.name });
      return version!.name;
    },
    async upload(version, src, transport) {
      // The SDK reports progress first (0 bytes done) when the local sha256
      // pass and the staging call are behind it: from there on it is bytes
      // on the wire and the commit.
      let sending: bigint | undefined;
      await registry.uploadFile(version, src, { transport, onProgress: () => {
          sending ??= process.hrtime.bigint();
        },
      });
      const end = process.hrtime.bigint();
      const file = await fileOf(version);
      return { sha256: file?.sha256 ?? "", ...(sending === undefined ? {} : { transferSeconds: Number(end - sending) / 1e9 }) };
    },
    async settle(version, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if ((await fileOf(version))?.md5) return true;
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    remember(transport, version) {
      versions.set(transport, version);
    },
    async download(transport, dst) {
      const version = versions.get(transport);
      if (!version) throw new Error(`no ${transport} upload to download`);
      // Transfer only: until the last byte is in the temp file (before the SDK's fsync and rename).
      let last: bigint | undefined;
      const t0 = process.hrtime.bigint();
      await registry.downloadToFile(version, FILE_PATH, dst, {
        transport,
        onProgress: ({ bytesDone, bytesTotal }) => {
          if (bytesDone >= bytesTotal) last ??= process.hrtime.bigint();
        },
      });
      return last === undefined ? undefined : Number(last - t0) / 1e9;
    },
    close() {},
  };
}
