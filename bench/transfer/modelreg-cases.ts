// The modelreg side of `bench transfer`: versions created over the SDK, files
// moved with the SDK's uploadFile / downloadToFile (transport "http": plain
// HTTP PUT/GET URLs; "stream": FileService.WriteUpload / ReadFile).
import { createRegistryClient, type Interceptor } from "@modelreg/sdk";

export type Transport = "http" | "stream";

/** Seconds per phase of one SDK call, in order. */
export type Phases = Record<string, number>;

export interface ModelregCases {
  /** A new version (resource name) of the bench model, with no files. */
  newVersion(): Promise<string>;
  /**
   * uploadFile; the sha256 the READY version records, the transfer alone
   * (end of StageVersionFiles to the start of CommitVersionFiles: bytes on
   * the wire and the server making each chunk durable) and all phases.
   */
  upload(version: string, src: string, transport: Transport): Promise<{ sha256: string; transferSeconds: number; phases: Phases }>;
  /**
   * Waits until the server has computed the md5 of the version's file (its
   * background job after an upload of new content), so that work does not
   * run into the next case; resolves false after `timeoutMs` without it.
   */
  settle(version: string, timeoutMs: number): Promise<boolean>;
  /** Which version `download` reads for this transport. */
  remember(transport: Transport, version: string): void;
  /**
   * downloadToFile into `dst`; the transfer alone (end of ListVersionFiles
   * to the last byte written, before the SDK's hash check, fsync and rename)
   * and all phases.
   */
  download(transport: Transport, dst: string): Promise<{ transferSeconds: number; phases: Phases }>;
  close(): void;
}

/** The file's path inside each version. */
const FILE_PATH = "model.bin";

const STALL_S = 0.02;

const now = () => Number(process.hrtime.bigint()) / 1e9;

export async function createModelregCases(baseUrl: string, accessKey: string): Promise<ModelregCases> {
  // Start and end of the last call of each method while `calls` is set.
  let calls: Map<string, { start: number; end: number }> | undefined;
  const timing: Interceptor = (next) => async (req) => {
    const start = now();
    try {
      return await next(req);
    } finally {
      calls?.set(req.method.name, { start, end: now() });
    }
  };
  const registry = createRegistryClient({ baseUrl, accessKey, interceptors: [timing] });
  const modelId = `bench-transfer-${Date.now().toString(36)}`;
  const { model } = await registry.models.createModel({ parent: "workspaces/default", modelId });
  const versions = new Map<Transport, string>();
  const fileOf = async (version: string) =>
    (await registry.files.listVersionFiles({ version: { case: "name", value: version } })).files.find((f) => f.path === FILE_PATH);
  const call = (name: string) => {
    const c = calls?.get(name);
    if (!c) throw new Error(`the SDK made no ${name} call`);
    return c;
  };
  return {
    async newVersion() {
      const { version } = await registry.versions.createVersion({ parent: model!.name });
      return version!.name;
    },
    async upload(version, src, transport) {
      calls = new Map();
      // Pauses between progress reports longer than STALL_S while sending:
      // mostly the turnaround between two chunks (the server making one
      // durable and answering, the next request starting).
      let lastReport = NaN;
      let stalled = 0;
      let stalls = 0;
      const t0 = now();
      await registry.uploadFile(version, src, {
        transport,
        onProgress: () => {
          const t = now();
          if (t - lastReport > STALL_S) {
            stalled += t - lastReport;
            stalls++;
          }
          lastReport = t;
        },
      });
      const end = now();
      const stage = call("StageVersionFiles");
      const commit = call("CommitVersionFiles");
      // A file new to the workspace is sent while it is hashed, between
      // CreateUploadSession and staging; content it may hold is hashed first.
      const opened = calls.get("CreateUploadSession");
      calls = undefined;
      const early: Phases = opened ? { "head+open": opened.end - t0, "send while hashing": stage.start - opened.end } : { hash: stage.start - t0 };
      const phases = {
        ...early,
        stage: stage.end - stage.start,
        send: commit.start - stage.end,
        [`send pauses >${STALL_S * 1000} ms`]: stalls,
        "their sum": stalled,
        commit: commit.end - commit.start,
        rest: end - commit.end,
      };
      const file = await fileOf(version);
      // Bytes on the wire: while hashing (when sent so), and after staging.
      const transferSeconds = (opened ? stage.start - opened.end : 0) + phases.send;
      return { sha256: file?.sha256 ?? "", transferSeconds, phases };
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
      let last = NaN;
      calls = new Map();
      const t0 = now();
      await registry.downloadToFile(version, FILE_PATH, dst, {
        transport,
        onProgress: ({ bytesDone, bytesTotal }) => {
          if (bytesDone >= bytesTotal && Number.isNaN(last)) last = now();
        },
      });
      const end = now();
      const list = call("ListVersionFiles");
      calls = undefined;
      const phases = { list: list.end - t0, bytes: last - list.end, "verify+fsync+rename": end - last };
      return { transferSeconds: phases.bytes, phases };
    },
    close() {},
  };
}
