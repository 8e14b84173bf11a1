// @modelreg/sdk in a browser page (the package's "browser" export
// condition): the typed client over @connectrpc/connect-web, files moved
// over the server's signed URLs with fetch and checked with Web Crypto.
// Nothing here, or in what it imports, needs a node: module
// (browser.test.ts bundles it for the browser to keep it so).
export { createRegistryClient, createTransport } from "./browser/client.js";
export type { BrowserClientOptions, BrowserRegistryClient } from "./browser/client.js";
export type { BrowserTransferOptions } from "./browser/context.js";
export { BROWSER_CHUNK_BYTES } from "./browser/context.js";
export { digestBlob, sha256Of } from "./browser/digest.js";
export type { BlobDigest } from "./browser/digest.js";
export type { ByteRange, DownloadedBlob } from "./browser/download.js";
export type { BlobFile, BlobUploadFileOptions, BlobUploadOptions } from "./browser/upload.js";
export { isLoopback } from "./loopback.js";
export type { ListMembers, ListRequest } from "./list-members.js";
export { clientError, Code, ConnectError, codeName, ERROR_DOMAIN, errorDetails } from "./errors.js";
export type { ErrorDetails } from "./errors.js";
export { ALL_MODELS, isAliasName, modelName, splitRef, versionName, workspaceName } from "./names.js";
export { paginate } from "./paginate.js";
export type { Page } from "./paginate.js";
export { exportFormatName, exportName, exportParent, parseExportFormat, shortExportName } from "./exports/names.js";
export type { ExportFormatName } from "./exports/names.js";
export { ExportFailedError, exportError } from "./exports/lifecycle.js";
export type { ExportRef, StartExportOptions, WaitForExportOptions } from "./exports/lifecycle.js";
export type { DownloadedExportBlob } from "./browser/exports.js";
export { isFinalState, taskName, taskStateName, taskTypeOf } from "./tasks/names.js";
export type { TaskTypeName } from "./tasks/names.js";
export type { TaskReadHelpers } from "./tasks/read-members.js";
export type { FollowTaskOptions, TaskWatchItem } from "./tasks/follow.js";
export type { WaitForTaskOptions } from "./tasks/wait.js";
export type { TransferProgress } from "./transfers/progress.js";
export type { RetryPolicy } from "./transfers/retry.js";
export { httpError } from "./transfers/http-common.js";
export type { CallOptions, Interceptor, Transport } from "@connectrpc/connect";
export * from "@modelreg/proto";
