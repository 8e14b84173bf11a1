// createRegistryClient() for a browser page: every modelreg service over
// Connect (or gRPC-Web) through @connectrpc/connect-web, the same list,
// name and task helpers as the Node client, and files moved over the
// server's signed plain-HTTP URLs with fetch, sha256 checked with Web
// Crypto. The server must allow the page's origin (CORS_ORIGINS).
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import type { Version } from "@modelreg/proto";
import { type ExportRef, startExport, waitForExport } from "../exports/lifecycle.js";
import { callInterceptors } from "../call-interceptors.js";
import { createListMembers, type ListMembers } from "../list-members.js";
import { createServiceClients, type ExportLifecycleMembers, type ServiceClients, versionResolver } from "../service-clients.js";
import { createTaskReadHelpers, type TaskReadHelpers } from "../tasks/read-members.js";
import type { BrowserTransferContext, BrowserTransferOptions } from "./context.js";
import { type ByteRange, type DownloadedBlob, downloadBlob, downloadBytes } from "./download.js";
import { type DownloadedExportBlob, downloadExportBlob } from "./exports.js";
import type { Fetch } from "./fetch-bytes.js";
import { unreachableInterceptor } from "./unreachable.js";
import { type BlobFile, type BlobUploadFileOptions, type BlobUploadOptions, uploadBlob, uploadBlobs } from "./upload.js";

export interface BrowserClientOptions {
  /** The server's address, e.g. https://registry.example.com; it must list this page's origin in CORS_ORIGINS. */
  baseUrl: string;
  /** Wire protocol (default "connect"). */
  protocol?: "connect" | "grpc-web" | undefined;
  /** Protobuf binary on the wire instead of JSON (default false: JSON, readable in the browser's developer tools). */
  useBinaryFormat?: boolean | undefined;
  /** Workspace that short names resolve in (default "default"). */
  workspace?: string | undefined;
  /** Default deadline of every call, in milliseconds (default: none); not of file transfers. */
  timeoutMs?: number | undefined;
  /**
   * Access key as `<key_id>.<secret>`, sent as `Authorization: Bearer ...`.
   * A key in a page is readable by whoever uses the page: give it the least
   * role that does the job (a reader key for a page that only lists).
   */
  accessKey?: string | undefined;
  /** Extra headers on every call (the server's CORS allows Connect's, Authorization and x-request-id). */
  headers?: Record<string, string> | undefined;
  /** Extra interceptors, outermost first. */
  interceptors?: Interceptor[] | undefined;
  /** The fetch calls and transfers use (default: the page's). */
  fetch?: Fetch | undefined;
  /** Use this transport for calls instead of building one; transfers still fetch from `baseUrl`. */
  transport?: Transport | undefined;
}

/**
 * The browser's client: the service clients (FileService's WriteUpload, a
 * client stream, is not possible in a browser: uploadBlob uses the signed
 * URLs), the list, task and export helpers, and files as Blobs.
 */
export interface BrowserRegistryClient extends ServiceClients, ListMembers, TaskReadHelpers, ExportLifecycleMembers {
  /**
   * Uploads one Blob (a File from an <input type=file>, or content made in
   * the page) as the version's only file (`model:1.0.0` or a full name):
   * hashes it with Web Crypto, stages it, sends it unless the workspace
   * holds the content already, commits. Resolves with the READY version.
   * The path defaults to a File's name. The Blob is read into memory once
   * to be hashed (Web Crypto hashes whole buffers only).
   */
  uploadBlob(version: string, blob: Blob, options?: BlobUploadFileOptions): Promise<Version>;
  /** Uploads Blobs as the version's files (paths in the version given), as uploadBlob does one. */
  uploadBlobs(version: string, files: BlobFile[], options?: BlobUploadOptions): Promise<Version>;
  /**
   * Downloads the file `path` of a READY version as a Blob, resumed after a
   * dropped connection, and checked against its sha256 (DataLoss, nothing
   * returned, when the bytes do not hash to it). The file is held in memory.
   */
  downloadBlob(version: string, path: string, options?: BrowserTransferOptions): Promise<DownloadedBlob>;
  /** Bytes of one file (or the range `offset`, `length` of it); a whole file checked as downloadBlob does. */
  downloadBytes(version: string, path: string, options?: BrowserTransferOptions & ByteRange): Promise<Uint8Array>;
  /** The archive of a SUCCEEDED export as a Blob, checked against its sha256 (DataLoss when it does not match). */
  downloadExportBlob(exp: ExportRef, options?: BrowserTransferOptions): Promise<DownloadedExportBlob>;
}

/** The connect-web transport for `options`: the access key, extra headers and interceptors on every call. */
export function createTransport(options: BrowserClientOptions): Transport {
  const accessKey = options.accessKey?.trim() || undefined;
  const common = {
    baseUrl: options.baseUrl,
    interceptors: [
      unreachableInterceptor(options.baseUrl),
      ...callInterceptors({ accessKey, baseUrl: options.baseUrl, headers: options.headers, interceptors: options.interceptors }),
    ],
    ...(options.useBinaryFormat !== undefined ? { useBinaryFormat: options.useBinaryFormat } : {}),
    ...(options.timeoutMs !== undefined ? { defaultTimeoutMs: options.timeoutMs } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  switch (options.protocol ?? "connect") {
    case "connect":
      return createConnectTransport(common);
    case "grpc-web":
      return createGrpcWebTransport(common);
    default:
      throw new Error(`unknown protocol ${String(options.protocol)}: use connect or grpc-web in a browser`);
  }
}

/** A client for the server in `options`, from a browser page. */
export function createRegistryClient(options: BrowserClientOptions): BrowserRegistryClient {
  const transport = options.transport ?? createTransport(options);
  const workspace = options.workspace ?? "default";
  const clients = createServiceClients(transport, workspace);
  // The page's fetch, called as a function of the window (a detached `fetch` throws "Illegal invocation").
  const pageFetch: Fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const transfers: BrowserTransferContext = {
    files: clients.files,
    baseUrl: options.baseUrl,
    fetch: pageFetch,
    resolveVersion: versionResolver(clients),
  };
  const exportCalls = { exports: clients.exports, workspace };
  return {
    ...clients,
    ...createListMembers(clients, workspace),
    ...createTaskReadHelpers(clients.tasks, workspace),
    uploadBlob: (version, blob, opts) => uploadBlob(transfers, version, blob, opts),
    uploadBlobs: (version, list, opts) => uploadBlobs(transfers, version, list, opts),
    downloadBlob: (version, path, opts) => downloadBlob(transfers, version, path, opts),
    downloadBytes: (version, path, opts) => downloadBytes(transfers, version, path, opts),
    startExport: (version, format, opts) => startExport(exportCalls, version, format, opts),
    waitForExport: (exp, opts) => waitForExport(exportCalls, exp, opts),
    downloadExportBlob: (exp, opts) => downloadExportBlob(exportCalls, transfers, exp, opts),
  };
}
