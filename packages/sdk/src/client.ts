// createRegistryClient(): typed clients for every modelreg service over
// Connect, gRPC or gRPC-Web, plus paging helpers and short-form names.
import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { callInterceptors } from "./call-interceptors.js";
import { createListMembers, type ListMembers } from "./list-members.js";
import { isLoopback } from "./loopback.js";
import {
  FileService,
  type Version,
} from "@modelreg/proto";
import type { TransferContext } from "./transfers/context.js";
import { downloadBytes, downloadToDirectory, downloadToFile, type ByteRange, type DownloadedFile, type DownloadOptions } from "./transfers/download.js";
import { createAgents } from "./transfers/http.js";
import { uploadDirectory, uploadFile, type UploadFileOptions, type UploadOptions } from "./transfers/upload.js";
import { importModelArts, type ImportModelArtsOptions } from "./import-modelarts.js";
import {
  startExport,
  downloadExport,
  waitForExport,
  type DownloadedExport,
  type DownloadExportOptions,
  type ExportContext,
  type ExportRef,
} from "./exports/exports.js";
import { importArchive, type ImportArchiveOptions } from "./exports/import-archive.js";
import { optionsFromParams, parseAlgorithmParams, type AlgorithmParams } from "./from-params.js";
import { createTaskHelpers, type TaskHelpers } from "./tasks/helpers.js";
import { createServiceClients, type ExportLifecycleMembers, type ServiceClients, versionResolver } from "./service-clients.js";

export interface RegistryClientOptions {
  /** Server address, e.g. http://localhost:8080. */
  baseUrl: string;
  /** Wire protocol (default "connect"). */
  protocol?: "connect" | "grpc" | "grpc-web" | undefined;
  /** HTTP version (default "2"; cleartext HTTP/2 with prior knowledge for http:// URLs, ALPN for https://). */
  httpVersion?: "1.1" | "2" | undefined;
  /**
   * TLS for an https:// server. `ca`: PEM certificate(s) of the authority
   * that signed the server's certificate (a private CA, or the certificate
   * itself when self-signed), trusted besides the public ones; used by
   * calls and by the plain-HTTPS file transfers alike. Node also trusts
   * what NODE_EXTRA_CA_CERTS names, with no option here.
   */
  tls?: { ca?: string | Buffer | Array<string | Buffer> | undefined } | undefined;
  /** Workspace that short names resolve in (default "default"). */
  workspace?: string | undefined;
  /**
   * Default deadline of every call, in milliseconds (default: none). Ignored
   * for calls when `transport` is given: set it there. File transfers
   * (uploadFile, downloadToFile, ...) take it as an inactivity timeout
   * instead, unless `transferIdleMs` is set.
   */
  timeoutMs?: number | undefined;
  /**
   * Inactivity timeout of file transfers, in milliseconds (default:
   * `timeoutMs`): no byte moved for this long aborts the attempt, which is
   * then retried from where it stopped. Separate from `timeoutMs`, so a
   * stall is caught quickly without also cutting short an ordinary call on
   * a busy server.
   */
  transferIdleMs?: number | undefined;
  /**
   * Access key as `<key_id>.<secret>`, sent as `Authorization: Bearer ...`.
   * Default: the MODELREG_ACCESS_KEY environment variable, if set.
   */
  accessKey?: string | undefined;
  /** Extra headers on every call. */
  headers?: Record<string, string> | undefined;
  /** Extra interceptors, outermost first. */
  interceptors?: Interceptor[] | undefined;
  /**
   * Use this transport instead of building one (tests, custom stacks). File
   * transfers then run their streams over it too, and their plain-HTTP path
   * still needs `baseUrl` to be the server's address.
   */
  transport?: Transport | undefined;
}

export interface RegistryClient extends ServiceClients, TaskHelpers, ListMembers, ExportLifecycleMembers {
  /**
   * Downloads the archive of a SUCCEEDED export to `target` (a file, or a
   * directory to put it in; default: its file name in the working
   * directory), resumed after dropped connections, verified against its
   * size and sha256, and renamed into place only when complete.
   */
  downloadExport(exp: ExportRef, target?: string, options?: DownloadExportOptions): Promise<DownloadedExport>;
  /**
   * Imports an export archive (.tar, .tar.gz or .zip) as a READY version:
   * into the archive's model and version id, or `target` (`model` or
   * `model:version`); the model is created when missing. The archive is
   * checked against its modelreg.json before anything is created, and the
   * new version's manifest_digest must equal the archive's.
   */
  importArchive(archivePath: string, target?: string, options?: ImportArchiveOptions): Promise<Version>;
  /**
   * Uploads one local file as the version's only file (`model:1.0.0` or a
   * full name): hashes it, stages it, sends it unless the workspace holds the
   * content already, commits. Resolves with the READY version.
   */
  uploadFile(version: string, localPath: string, options?: UploadFileOptions): Promise<Version>;
  /** Uploads every regular file under `dir` (paths relative to it, symlinks refused) as the version's files. */
  uploadDirectory(version: string, dir: string, options?: UploadOptions): Promise<Version>;
  /**
   * Downloads the file `path` of a READY version to `target` (a file path,
   * or an existing directory to put it in; default: its name in the working
   * directory), verified against its sha256.
   */
  downloadToFile(version: string, path: string, target?: string, options?: DownloadOptions): Promise<DownloadedFile>;
  /** Downloads every file of a READY version under `dir`; files already there with the right sha256 are kept. */
  downloadToDirectory(version: string, dir: string, options?: DownloadOptions): Promise<DownloadedFile[]>;
  /** Bytes of one file (or the range `offset`, `length` of it) in memory. */
  downloadBytes(version: string, path: string, options?: DownloadOptions & ByteRange): Promise<Uint8Array>;
  /**
   * Imports a ModelArts "import model" request body (object or JSON text):
   * creates its version (modelArtsToVersion says how fields map) and
   * resolves with it. `createModel: true` first creates the model when it
   * does not exist. What ModelArts writes and the registry's strict rules
   * refuse is kept as written and marked `lenient`; notStrictlyValid(version)
   * lists it.
   */
  importModelArts(request: object | string, options?: ImportModelArtsOptions): Promise<Version>;
}

export type { ListRequest } from "./list-members.js";

/** The access key a client uses: the option, else MODELREG_ACCESS_KEY. */
export function accessKeyOf(options: Pick<RegistryClientOptions, "accessKey">): string | undefined {
  const key = options.accessKey ?? (typeof process !== "undefined" ? process.env.MODELREG_ACCESS_KEY : undefined);
  return key?.trim() || undefined;
}

/**
 * The transport for `options`. `bulk` builds one for bytes: no compression
 * offered or accepted (model files rarely compress, and gzip would cost more
 * CPU than it saves) and no default deadline (transfers time out on
 * inactivity instead). Calls ask for gzip (or brotli) answers, except from
 * a server on this machine (isLoopback): over loopback the bytes cross no
 * network, so compressing them only spends CPU on both ends to save
 * nothing.
 */
export function createTransport(options: RegistryClientOptions, bulk = false, sessionManager?: Http2SessionManager): Transport {
  const interceptors = callInterceptors({ accessKey: accessKeyOf(options), baseUrl: options.baseUrl, headers: options.headers, interceptors: options.interceptors });
  const compressed = !bulk && !isLoopback(options.baseUrl);
  const tls = tlsOptions(options);
  const common = {
    baseUrl: options.baseUrl,
    httpVersion: options.httpVersion ?? "2",
    ...(tls ? { nodeOptions: tls } : {}),
    interceptors,
    ...(compressed ? {} : { acceptCompression: [] }),
    ...(bulk ? {} : { defaultTimeoutMs: options.timeoutMs }),
    ...(sessionManager && options.httpVersion !== "1.1" ? { sessionManager } : {}),
  } as const;
  switch (options.protocol ?? "connect") {
    case "grpc":
      return createGrpcTransport(common);
    case "grpc-web":
      return createGrpcWebTransport(common);
    case "connect":
      return createConnectTransport(common);
    default:
      throw new Error(`unknown protocol ${String(options.protocol)}: use connect, grpc or grpc-web`);
  }
}

/**
 * Node's TLS options for `options.tls`: its CAs added to the public ones and
 * to NODE_EXTRA_CA_CERTS' (Node's `ca` alone would replace both).
 */
function tlsOptions(options: RegistryClientOptions): { ca: Array<string | Buffer> } | undefined {
  const ca = options.tls?.ca;
  if (ca === undefined) return undefined;
  return { ca: [...rootCertificates, ...extraCaCertificates(), ...(Array.isArray(ca) ? ca : [ca])] };
}

/** The file NODE_EXTRA_CA_CERTS names, as Node read it at start (nothing when unset or unreadable: Node warned then). */
function extraCaCertificates(): Buffer[] {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return [readFileSync(file)];
  } catch {
    return [];
  }
}

/**
 * A client for the server in `options`. `createRegistryClient.fromParams(json)`
 * builds one from an AIMaster-style parameter block instead.
 */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  // A given transport still gets the access key: wrap it.
  const key = accessKeyOf(options);
  const transport = options.transport ? withHeaders(options.transport, key ? { authorization: `Bearer ${key}` } : {}) : createTransport(options);
  const workspace = options.workspace ?? "default";
  const clients = createServiceClients(transport, workspace);
  const { files } = clients;
  // The byte streams get their own HTTP/2 connection, dropped after a stall
  // so that the retry does not queue behind a dead one.
  const bulkSession = options.transport || options.httpVersion === "1.1" ? undefined : new Http2SessionManager(options.baseUrl, undefined, tlsOptions(options));
  const transfers: TransferContext = {
    files,
    streams: options.transport ? files : createClient(FileService, createTransport(options, true, bulkSession)),
    dropStreamConnection: () => bulkSession?.abort(),
    baseUrl: options.baseUrl,
    idleMs: options.transferIdleMs ?? options.timeoutMs,
    agents: createAgents(tlsOptions(options)),
    resolveVersion: versionResolver(clients),
  };
  const exportContext: ExportContext = { exports: clients.exports, transfers, workspace };
  const client: RegistryClient = {
    ...clients,
    ...createListMembers(clients, workspace),
    ...createTaskHelpers({ ...clients, transfers, workspace, accessKey: key }),
    startExport: (version, format, opts) => startExport(exportContext, version, format, opts),
    waitForExport: (exp, opts) => waitForExport(exportContext, exp, opts),
    downloadExport: (exp, target, opts) => downloadExport(exportContext, exp, target, opts),
    importArchive: (archivePath, target, opts) => importArchive(client, transfers, archivePath, target, opts),
    uploadFile: (version, localPath, opts) => uploadFile(transfers, version, localPath, opts),
    uploadDirectory: (version, dir, opts) => uploadDirectory(transfers, version, dir, opts),
    downloadToFile: (version, path, target, opts) => downloadToFile(transfers, version, path, target, opts),
    downloadToDirectory: (version, dir, opts) => downloadToDirectory(transfers, version, dir, opts),
    downloadBytes: (version, path, opts) => downloadBytes(transfers, version, path, opts),
    importModelArts: (request, opts) => importModelArts(client, request, opts),
  };
  return client;
}

/** `inner` with extra headers on every call (for a transport the caller built). */
function withHeaders(inner: Transport, headers: Record<string, string>): Transport {
  if (Object.keys(headers).length === 0) return inner;
  const add = (header: ConstructorParameters<typeof Headers>[0]) => {
    const h = new Headers(header);
    for (const [k, v] of Object.entries(headers)) if (!h.has(k)) h.set(k, v);
    return h;
  };
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) => inner.unary(method, signal, timeoutMs, add(header), input, contextValues),
    stream: (method, signal, timeoutMs, header, input, contextValues) => inner.stream(method, signal, timeoutMs, add(header), input, contextValues),
  };
}

/** Connects from the JSON parameter block a training job is handed (see from-params.ts). */
createRegistryClient.fromParams = (params: string | object, overrides: Partial<RegistryClientOptions> = {}): RegistryClient & { params: AlgorithmParams } => {
  const p = parseAlgorithmParams(params);
  return { ...createRegistryClient(optionsFromParams(p, overrides)), params: p };
};
